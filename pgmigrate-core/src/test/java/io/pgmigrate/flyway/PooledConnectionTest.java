package io.pgmigrate.flyway;

import static io.pgmigrate.flyway.Guarding.flyway;
import static io.pgmigrate.flyway.Guarding.settings;
import static org.assertj.core.api.Assertions.assertThat;

import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;

import com.zaxxer.hikari.HikariConfig;
import com.zaxxer.hikari.HikariDataSource;
import io.pgmigrate.core.StandardBlockingAction;
import io.pgmigrate.testsupport.PostgresTest;
import io.pgmigrate.testsupport.TestDatabase;
import org.junit.jupiter.api.Test;

@PostgresTest
class PooledConnectionTest {

    private static final int POOL_SIZE = 4;

    @Test
    void connectionsOfAPoolSharedWithTheApplicationComeBackWithTheirOwnSettings(TestDatabase db) throws Exception {
        HikariConfig config = new HikariConfig();
        config.setJdbcUrl(db.jdbcUrl());
        config.setUsername(db.user());
        config.setPassword(db.password());
        config.addDataSourceProperty("ApplicationName", "application");
        config.setMaximumPoolSize(POOL_SIZE);
        config.setMinimumIdle(POOL_SIZE);
        config.setPoolName("pgmigrate-test-pool");
        try (HikariDataSource pool = new HikariDataSource(config)) {
            Set<Integer> poolPids = new HashSet<>();
            for (Session session : borrowAll(pool)) {
                assertThat(session).isEqualTo(new Session(session.pid(), "0", "application", true));
                poolPids.add(session.pid());
            }
            RecordingGuardListener events = new RecordingGuardListener();

            new FlywayGuard(settings().withLockTimeout(Duration.ofSeconds(2)), StandardBlockingAction.TERMINATE,
                    events).migrate(flyway(pool, "pooled").load());

            // what the migration saw: the guard's settings, on a connection of the pool
            assertThat(db.queryValue("SELECT lock_timeout FROM session_seen")).isEqualTo("2s");
            assertThat(db.queryValue("SELECT application_name FROM session_seen")).isEqualTo("pgmigrate-migration");
            int migrationPid = (Integer) db.queryValue("SELECT pid FROM session_seen");
            assertThat(events.runs.get(0).backendPids()).containsExactly(migrationPid);
            assertThat(poolPids).contains(migrationPid);

            // what the application gets back: every pooled connection as it was
            List<Session> after = borrowAll(pool);
            assertThat(after).extracting(Session::pid).containsExactlyInAnyOrderElementsOf(poolPids);
            assertThat(after).allSatisfy((session) -> assertThat(session)
                .isEqualTo(new Session(session.pid(), "0", "application", true)));
            assertThat(db.queryValue("SELECT count(*) FROM pg_stat_activity "
                    + "WHERE datname = current_database() AND application_name LIKE 'pgmigrate-%'")).isEqualTo(0L);
        }
    }

    record Session(int pid, String lockTimeout, String applicationName, boolean autoCommit) {
    }

    /** Borrows every connection of the pool at once, so each one is looked at. */
    private static List<Session> borrowAll(HikariDataSource pool) throws SQLException {
        List<Connection> borrowed = new ArrayList<>();
        try {
            List<Session> sessions = new ArrayList<>();
            for (int i = 0; i < POOL_SIZE; i++) {
                Connection connection = pool.getConnection();
                borrowed.add(connection);
                try (Statement statement = connection.createStatement(); ResultSet rows = statement.executeQuery(
                        "SELECT pg_backend_pid(), current_setting('lock_timeout'), "
                                + "current_setting('application_name')")) {
                    rows.next();
                    sessions.add(new Session(rows.getInt(1), rows.getString(2), rows.getString(3),
                            connection.getAutoCommit()));
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
