package io.pgmigrate.flyway;

import static io.pgmigrate.flyway.Guarding.createOrders;
import static io.pgmigrate.flyway.Guarding.eventually;
import static io.pgmigrate.flyway.Guarding.flyway;
import static io.pgmigrate.flyway.Guarding.reader;
import static io.pgmigrate.flyway.Guarding.settings;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assumptions.assumeThat;
import static org.awaitility.Awaitility.await;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

import com.zaxxer.hikari.HikariConfig;
import com.zaxxer.hikari.HikariDataSource;
import io.pgmigrate.core.StandardBlockingAction;
import io.pgmigrate.testsupport.PostgresTest;
import io.pgmigrate.testsupport.TestDatabase;
import io.pgmigrate.testsupport.TestSession;
import org.junit.jupiter.api.Test;

/**
 * A JVM that dies while its migration waits for a lock must not leave the migration's backend
 * queued for ACCESS EXCLUSIVE, where it would keep the application's queries waiting behind it. Flyway's
 * connections get {@code client_connection_check_interval}, put back when Flyway returns them.
 */
@PostgresTest
class OrphanedWaitTest {

    private static final int POOL_SIZE = 2;

    /** What a statement that ran into its statement_timeout fails with. */
    private static final String QUERY_CANCELED = "57014";

    @Test
    void theBackendOfAMigrationWhoseJvmIsKilledWhileItWaitsEndsAndTheApplicationGoesOn(TestDatabase db)
            throws Exception {
        assumeThat(checksClientConnections(db))
            .as("the server has client_connection_check_interval (PostgreSQL 14+, on a platform that supports it)")
            .isTrue();
        createOrders(db);
        TestSession report = reader(db, "nightly-report");
        Path output = Files.createTempFile("pgmigrate-orphaned-child", ".log");
        Process child = startChild(db, output);
        try {
            int migration = awaitMigrationWaiting(db, child, output);
            assertThat(applicationQueryRuns(db)).as("before the kill, the application queues behind the migration")
                .isFalse();

            long killed = System.nanoTime();
            child.destroyForcibly();
            await().atMost(Duration.ofSeconds(3))
                .pollInterval(Duration.ofMillis(20))
                .until(() -> !child.isAlive() && !db.isAlive(migration));
            long goneMillis = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - killed);

            assertThat(applicationQueryRuns(db)).as("after the kill (backend gone %d ms after it)", goneMillis)
                .isTrue();
            assertThat(report.isAlive()).as("the guard left the blocker alone (blocking action none)").isTrue();
            assertThat(Guarding.hasColumn(db, "orders", "note")).isFalse();
        }
        finally {
            child.destroyForcibly();
            child.waitFor(10, TimeUnit.SECONDS);
            Files.deleteIfExists(output);
        }
    }

    @Test
    void flywaysConnectionsCheckTheirClientAndGoBackToASharedPoolWithTheirOwnSetting(TestDatabase db)
            throws Exception {
        assumeThat(checksClientConnections(db)).isTrue();
        HikariConfig config = new HikariConfig();
        config.setJdbcUrl(db.jdbcUrl());
        config.setUsername(db.user());
        config.setPassword(db.password());
        config.addDataSourceProperty("ApplicationName", "application");
        // the application's own value, which the guard must put back rather than reset to the server's
        config.setConnectionInitSql("SET client_connection_check_interval = '5s'");
        config.setMaximumPoolSize(POOL_SIZE);
        config.setMinimumIdle(POOL_SIZE);
        config.setPoolName("orphaned-wait-pool");
        try (HikariDataSource pool = new HikariDataSource(config)) {
            List<Integer> pids = new ArrayList<>();
            for (String[] session : borrowAll(pool)) {
                assertThat(session[1]).isEqualTo("5s");
                pids.add(Integer.valueOf(session[0]));
            }

            new FlywayGuard(settings(), StandardBlockingAction.TERMINATE, new RecordingGuardListener())
                .withWatcherDataSource(db.dataSource())
                .migrate(flyway(pool, "connection_check").table("history_connection_check").load());

            assertThat(db.queryValue("SELECT check_interval FROM session_seen")).isEqualTo("1s");
            assertThat(db.queryValue("SELECT application_name FROM session_seen")).isEqualTo("pgmigrate-migration");
            assertThat(pids).contains((Integer) db.queryValue("SELECT pid FROM session_seen"));
            List<String[]> after = borrowAll(pool);
            assertThat(after).extracting((session) -> Integer.valueOf(session[0]))
                .containsExactlyInAnyOrderElementsOf(pids);
            assertThat(after).allSatisfy((session) -> {
                assertThat(session[1]).isEqualTo("5s");
                assertThat(session[2]).isEqualTo("application");
            });
        }
    }

    /** Whether this server accepts the setting: PostgreSQL 14+, and a platform that can check a socket. */
    private static boolean checksClientConnections(TestDatabase db) throws SQLException {
        try (TestSession session = db.session("test-setup")) {
            session.execute("SET client_connection_check_interval = 1000");
            return true;
        }
        catch (SQLException ex) {
            return false;
        }
    }

    /** A JVM of its own that runs {@link OrphanedMigrationChild}, with this test's class path. */
    private static Process startChild(TestDatabase db, Path output) throws IOException {
        String java = Path.of(System.getProperty("java.home"), "bin", "java").toString();
        String classPath = System.getProperty("surefire.test.class.path", System.getProperty("java.class.path"));
        ProcessBuilder builder = new ProcessBuilder(java, "-cp", classPath, OrphanedMigrationChild.class.getName(),
                db.jdbcUrl(), db.user(), db.password());
        builder.redirectErrorStream(true);
        builder.redirectOutput(output.toFile());
        return builder.start();
    }

    /** The pid of the child's migration backend, once PostgreSQL reports it waiting for its lock. */
    private static int awaitMigrationWaiting(TestDatabase db, Process child, Path output) throws Exception {
        eventually().until(() -> !child.isAlive() || migrationWaiting(db) != null);
        Integer pid = migrationWaiting(db);
        assertThat(pid).as("the child's migration waits for its lock; child output:%n%s",
                Files.readString(output, StandardCharsets.UTF_8)).isNotNull();
        return pid;
    }

    private static Integer migrationWaiting(TestDatabase db) throws SQLException {
        return (Integer) db.queryValue("SELECT a.pid FROM pg_stat_activity a JOIN pg_locks l ON l.pid = a.pid "
                + "WHERE a.datname = current_database() AND a.application_name = ? AND NOT l.granted "
                + "AND l.mode = 'AccessExclusiveLock' LIMIT 1", FlywayGuard.APPLICATION_NAME);
    }

    /** Whether an application query on orders gets its answer within half a second. */
    private static boolean applicationQueryRuns(TestDatabase db) throws SQLException {
        try (TestSession application = db.session("application")) {
            application.execute("SET statement_timeout = '500ms'");
            return Long.valueOf(100).equals(application.queryValue("SELECT count(*) FROM orders"));
        }
        catch (SQLException ex) {
            if (QUERY_CANCELED.equals(ex.getSQLState())) {
                return false;
            }
            throw ex;
        }
    }

    /** Borrows every connection of the pool at once: pid, client_connection_check_interval, application_name. */
    private static List<String[]> borrowAll(HikariDataSource pool) throws SQLException {
        List<Connection> borrowed = new ArrayList<>();
        try {
            List<String[]> sessions = new ArrayList<>();
            for (int i = 0; i < POOL_SIZE; i++) {
                Connection connection = pool.getConnection();
                borrowed.add(connection);
                try (Statement statement = connection.createStatement(); ResultSet rows = statement.executeQuery(
                        "SELECT pg_backend_pid(), current_setting('client_connection_check_interval'), "
                                + "current_setting('application_name')")) {
                    rows.next();
                    sessions.add(new String[] { rows.getString(1), rows.getString(2), rows.getString(3) });
                }
            }
            return sessions;
        }
        finally {
            for (Connection connection : borrowed) {
                connection.close();
            }
        }
    }
}
