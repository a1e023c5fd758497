package io.pgmigrate.reliability;

import static io.pgmigrate.reliability.Reliability.eventually;
import static io.pgmigrate.reliability.Reliability.flyway;
import static io.pgmigrate.reliability.Reliability.hasColumn;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.fail;

import java.sql.SQLException;
import java.time.Duration;
import java.util.List;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicInteger;

import io.pgmigrate.core.BlockerReport;
import io.pgmigrate.core.StandardBlockingAction;
import io.pgmigrate.flyway.FlywayGuard;
import io.pgmigrate.flyway.GuardSettings;
import io.pgmigrate.flyway.LockTimeoutExhaustedException;
import io.pgmigrate.testsupport.PostgresTest;
import io.pgmigrate.testsupport.TestDatabase;
import io.pgmigrate.testsupport.TestSession;
import org.flywaydb.core.api.output.MigrateResult;
import org.junit.jupiter.api.Test;

/**
 * Issue 7: a blocker that reconnects and re-takes its lock each time it is terminated. Five migrations each
 * alter the table it locks and keep it for half a second, long enough for the blocker to reconnect and queue
 * for its lock again, so it usually stands in the way of every one of them.
 */
@PostgresTest
class ReconnectingBlockerTest {

    private static final int MIGRATIONS = 5;

    private static final int LOCK_RETRIES = 3;

    @Test
    void aBlockerThatReconnectsAndRelocksGivesABoundedClearOutcome(TestDatabase db) throws Exception {
        db.execute("CREATE TABLE orders (id int PRIMARY KEY, total int)",
                "INSERT INTO orders SELECT g, g FROM generate_series(1, 100) g");
        ReconnectingBlocker blocker = new ReconnectingBlocker(db);
        blocker.start();
        eventually().until(() -> blocker.locks.get() >= 1 || !blocker.thread.isAlive());
        assertThat(blocker.locks.get()).as("the blocker holds its lock before the migration starts").isEqualTo(1);

        PidRecordingDataSource dataSource = new PidRecordingDataSource(db.dataSource());
        Events events = new Events();
        GuardSettings settings = Reliability.settings().withLockTimeout(Duration.ofSeconds(1))
            .withLockRetries(LOCK_RETRIES).withLockRetryDelay(Duration.ofMillis(100));
        MigrateResult result = null;
        LockTimeoutExhaustedException exhausted = null;
        try {
            result = new FlywayGuard(settings, StandardBlockingAction.TERMINATE, events)
                .migrate(flyway(dataSource, "reliability_reconnect", "history_reconnect").load());
        }
        catch (LockTimeoutExhaustedException ex) {
            exhausted = ex;
        }
        finally {
            blocker.stop();
        }

        // the blocker thread ends within its bound: at most MAX_RECONNECTS reconnects, no unexpected error
        blocker.thread.join(Reliability.DEADLINE.toMillis());
        assertThat(blocker.thread.isAlive()).as("blocker thread ended").isFalse();
        assertThat(blocker.unexpected).as("blocker thread error").isNull();
        assertThat(blocker.reconnects.get()).isBetween(0, ReconnectingBlocker.MAX_RECONNECTS);

        // only the blocker's sessions were terminated; no session pgmigrate or Flyway used was
        List<Integer> terminated = events.terminatedPids();
        System.out.println("pgmigrate measured: reconnecting blocker: outcome="
                + (exhausted == null ? "applied" : "lock timeout exhausted") + " terminated=" + terminated.size()
                + " reconnects=" + blocker.reconnects.get() + " lock timeouts=" + events.lockTimeouts.size());
        assertThat(terminated).isNotEmpty().doesNotHaveDuplicates();
        assertThat(blocker.pids).containsAll(terminated);
        assertThat(terminated).doesNotContainAnyElementsOf(dataSource.pids);
        assertThat(events.reports).extracting(BlockerReport::blocker)
            .allSatisfy((b) -> assertThat(b.applicationName()).isEqualTo("reconnecting-blocker"));
        for (int pid : terminated) {
            assertThat(db.isAlive(pid)).as("terminated pid %d", pid).isFalse();
        }
        // each termination ended one session of the blocker, which then came back at most once for it
        assertThat(blocker.reconnects.get()).isBetween(terminated.size() - 1, terminated.size());
        boolean applied = exhausted == null;
        assertThat(events.runs).singleElement().satisfies((run) -> {
            assertThat(run.backendPids()).doesNotContainAnyElementsOf(terminated);
            assertThat(run.success()).isEqualTo(applied);
        });

        if (exhausted == null) {
            // the guard won the gap between a termination and the re-lock, for every migration
            assertThat(result.success).isTrue();
            assertThat(result.migrationsExecuted).isEqualTo(MIGRATIONS);
            for (int i = 1; i <= MIGRATIONS; i++) {
                assertThat(hasColumn(db, "public", "orders", "c" + i)).as("c" + i).isTrue();
            }
            assertThat(db.queryValue("SELECT count(*) FROM history_reconnect WHERE success AND version <> '0'"))
                .isEqualTo((long) MIGRATIONS);
        }
        else {
            // every attempt of one migration ran out of lock timeout: it names the migration, nothing of it is left
            String migration = exhausted.migration();
            assertThat(migration).matches("[1-5] \\(add c[1-5]\\)");
            int version = Integer.parseInt(migration.substring(0, 1));
            assertThat(exhausted.attempts()).isEqualTo(LOCK_RETRIES + 1);
            assertThat(exhausted.getMessage()).contains("migration " + migration, "attempts=" + (LOCK_RETRIES + 1),
                    "lock_timeout=1000ms");
            assertThat(hasColumn(db, "public", "orders", "c" + version)).isFalse();
            assertThat(db.queryValue("SELECT count(*) FROM history_reconnect WHERE version = ?",
                    String.valueOf(version))).isEqualTo(0L);
            for (int i = 1; i < version; i++) {
                assertThat(hasColumn(db, "public", "orders", "c" + i)).as("c" + i).isTrue();
            }
            assertThat(events.lockTimeouts).filteredOn((e) -> e.migration().equals(migration))
                .hasSize(LOCK_RETRIES + 1);
        }
        assertThat(Reliability.pgmigrateThreadAlive()).isFalse();
        eventually().until(() -> Reliability.pgmigrateSessions(db) == 0);
    }

    /**
     * A client that, each time its session is terminated, connects again and re-takes ACCESS SHARE on
     * orders, at most {@link #MAX_RECONNECTS} times. It keeps its transaction open with short server-side
     * sleeps, so it notices its termination at once and the lock is held the whole time.
     */
    static final class ReconnectingBlocker {

        static final int MAX_RECONNECTS = 15;

        final TestDatabase db;
        final Set<Integer> pids = ConcurrentHashMap.newKeySet();
        final AtomicInteger reconnects = new AtomicInteger();
        final AtomicInteger locks = new AtomicInteger();
        final Thread thread = new Thread(this::run, "reconnecting-blocker");
        volatile boolean stopped;
        volatile Throwable unexpected;

        ReconnectingBlocker(TestDatabase db) {
            this.db = db;
            thread.setDaemon(true);
        }

        void start() {
            thread.start();
        }

        void stop() {
            stopped = true;
        }

        private void run() {
            try {
                for (int session = 0; session <= MAX_RECONNECTS && !stopped; session++) {
                    if (session > 0) {
                        reconnects.incrementAndGet();
                    }
                    if (!holdUntilTerminated()) {
                        return;
                    }
                }
            }
            catch (Throwable ex) {
                unexpected = ex;
            }
        }

        /** {@code true} when the session was terminated, {@code false} when the test stopped the blocker. */
        private boolean holdUntilTerminated() throws SQLException {
            TestSession session = db.session("reconnecting-blocker");
            pids.add(session.pid());
            try {
                // waits behind a migration that holds the table, then holds it again
                session.begin().execute("LOCK TABLE orders IN ACCESS SHARE MODE");
                locks.incrementAndGet();
                while (!stopped) {
                    session.execute("SELECT pg_sleep(0.02)");
                }
                session.rollback();
                return false;
            }
            catch (SQLException ex) {
                // 57P01 admin_shutdown: pg_terminate_backend; 08xxx: the connection was gone before the next statement
                String state = String.valueOf(ex.getSQLState());
                if (!state.equals("57P01") && !state.startsWith("08")) {
                    fail("the blocker failed otherwise than by termination: " + ex.getSQLState(), ex);
                }
                return true;
            }
            finally {
                session.close();
            }
        }
    }
}
