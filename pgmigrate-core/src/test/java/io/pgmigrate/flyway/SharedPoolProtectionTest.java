package io.pgmigrate.flyway;

import io.pgmigrate.core.GuardSettings;
import io.pgmigrate.core.LockTimeoutEvent;
import static io.pgmigrate.flyway.Guarding.createOrders;
import static io.pgmigrate.flyway.Guarding.flyway;
import static io.pgmigrate.flyway.Guarding.settings;
import static io.pgmigrate.flyway.Guarding.withoutTransactionalLock;
import static org.assertj.core.api.Assertions.assertThat;

import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReference;

import com.zaxxer.hikari.HikariConfig;
import com.zaxxer.hikari.HikariDataSource;
import io.pgmigrate.core.BlockerOutcome;
import io.pgmigrate.core.StandardBlockingAction;
import io.pgmigrate.testsupport.PostgresTest;
import io.pgmigrate.testsupport.TestDatabase;
import io.pgmigrate.testsupport.TestSession;
import org.flywaydb.core.api.output.MigrateResult;
import org.junit.jupiter.api.Test;

/**
 * A connection Flyway returned to a pool it shares with the application is no longer the
 * migration run's. The application borrows the very connection the first attempt migrated on, and its session
 * then blocks the retry: it is terminated like any other blocker, not left alone as "a connection of this run".
 */
@PostgresTest
class SharedPoolProtectionTest {

    private static final int POOL_SIZE = 2;

    @Test
    void anApplicationSessionOnAConnectionFlywayReturnedIsTerminatedWhenItBlocksTheRetry(TestDatabase db)
            throws Exception {
        createOrders(db);
        // an excluded backup makes the first attempt run into its lock timeout; it ends before the retry
        TestSession backup = Guarding.reader(db, "backup-tool");
        GuardSettings defaults = settings();
        GuardSettings settings = defaults
            .withWatch(defaults.watch()
                .withExcludedApplicationNames(Set.of("backup-tool"))
                .withMaxApplicationStall(Duration.ZERO))
            // long enough that a loaded machine's watcher ends the application's session well within the retry's
            .withLockTimeout(Duration.ofSeconds(2))
            .withLockRetries(1)
            .withLockRetryDelay(Duration.ofMillis(200));
        HikariConfig config = new HikariConfig();
        config.setJdbcUrl(db.jdbcUrl());
        config.setUsername(db.user());
        config.setPassword(db.password());
        config.addDataSourceProperty("ApplicationName", "application");
        config.setMaximumPoolSize(POOL_SIZE);
        config.setMinimumIdle(POOL_SIZE);
        config.setPoolName("shared-pool");
        AtomicReference<Connection> application = new AtomicReference<>();
        AtomicInteger applicationPid = new AtomicInteger();
        try (HikariDataSource pool = new HikariDataSource(config)) {
            RecordingGuardListener events = new RecordingGuardListener() {
                @Override
                public void lockTimeout(LockTimeoutEvent event) {
                    super.lockTimeout(event);
                    if (event.attempt() != 1) {
                        return;
                    }
                    // between the attempts, Flyway has given its connections back: the application borrows the one
                    // the first attempt migrated on, reads orders and stays in its transaction
                    try {
                        backup.rollback();
                        Connection borrowed = borrow(pool, started.get(0).pid());
                        borrowed.setAutoCommit(false);
                        try (Statement statement = borrowed.createStatement()) {
                            statement.execute("SELECT count(*) FROM orders");
                        }
                        application.set(borrowed);
                        applicationPid.set(started.get(0).pid());
                    }
                    catch (SQLException ex) {
                        throw new IllegalStateException(ex);
                    }
                }
            };

            MigrateResult result = new FlywayGuard(settings, StandardBlockingAction.TERMINATE, events)
                .withWatcherDataSource(db.dataSource())
                // one connection per attempt, so that the retry finds one free while the application holds the other
                .migrate(withoutTransactionalLock(flyway(pool, "shared_pool"))
                    .load());

            int pid = applicationPid.get();
            assertThat(pid).as("the application borrowed the first attempt's connection").isNotZero();
            assertThat(events.lockTimeouts).singleElement().satisfies((event) -> {
                assertThat(event.retried()).isTrue();
                assertThat(event.blockersSeen()).extracting((blocker) -> blocker.pid()).contains(backup.pid());
            });
            assertThat(result.success).isTrue();
            assertThat(Guarding.hasColumn(db, "orders", "note")).isTrue();
            assertThat(events.terminatedPids()).containsExactly(pid);
            assertThat(events.reportsFor(pid)).extracting((report) -> report.outcome())
                .doesNotContain(BlockerOutcome.PROTECTED);
            assertThat(events.reportsFor(pid)).anySatisfy((report) -> {
                assertThat(report.blocker().applicationName()).isEqualTo("application");
                assertThat(report.blocker().state()).isEqualTo("idle in transaction");
            });
            assertThat(db.isAlive(pid)).isFalse();
            assertThat(events.started).extracting(RecordingGuardListener.Started::pid).doesNotContain(0)
                .as("the retry ran on the pool's other connection").last().isNotEqualTo(pid);
        }
        finally {
            Connection borrowed = application.get();
            if (borrowed != null) {
                try {
                    borrowed.close();
                }
                catch (SQLException ex) {
                    // terminated by the guard, as it should be
                }
            }
        }
    }

    /** Borrows connections of the pool until it has the one on the backend with the pid; gives the others back. */
    private static Connection borrow(HikariDataSource pool, int pid) throws SQLException {
        List<Connection> others = new ArrayList<>();
        try {
            for (int i = 0; i < POOL_SIZE; i++) {
                Connection connection = pool.getConnection();
                if (backendPid(connection) == pid) {
                    return connection;
                }
                others.add(connection);
            }
            throw new IllegalStateException("no connection of the pool is on backend " + pid);
        }
        finally {
            for (Connection other : others) {
                other.close();
            }
        }
    }

    private static int backendPid(Connection connection) throws SQLException {
        try (Statement statement = connection.createStatement();
                ResultSet rows = statement.executeQuery("SELECT pg_backend_pid()")) {
            rows.next();
            return rows.getInt(1);
        }
    }
}
