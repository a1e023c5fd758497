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

import io.pgmigrate.core.BlockerOutcome;
import io.pgmigrate.core.BlockerReport;
import io.pgmigrate.core.StandardBlockingAction;
import io.pgmigrate.flyway.FlywayGuard;
import io.pgmigrate.core.GuardSettings;
import io.pgmigrate.flyway.RecordingGuardListener;
import io.pgmigrate.testsupport.PostgresTest;
import io.pgmigrate.testsupport.TestDatabase;
import io.pgmigrate.testsupport.TestSession;
import org.flywaydb.core.api.output.MigrateResult;
import org.junit.jupiter.api.Test;

/**
 * Issue 7: a blocker that reconnects and re-takes its lock each time it is terminated (at most
 * {@value ReconnectingBlocker#MAX_RECONNECTS} times). Five migrations each alter the table it locks, then keep the
 * table until the client has reconnected and queued for its lock again, so the client holds the lock again when
 * the next migration starts: it stands in the way of every one of them.
 * <p>
 * The outcome is deterministic: the guard terminates the client, and PostgreSQL grants the freed lock to the
 * migration, which already waits in the lock queue; the reconnected client queues behind it. So every migration
 * applies, each after exactly one termination, with no lock timeout and no retry. A blocker the guard cannot end
 * makes the migration fail after the configured attempts instead: {@code io.pgmigrate.flyway.LockTimeoutExhaustedTest}.
 */
@PostgresTest
class ReconnectingBlockerTest {

    private static final int MIGRATIONS = 5;

    private static final int LOCK_RETRIES = 3;

    @Test
    void aBlockerThatReconnectsAndRelocksIsTerminatedOncePerMigrationAndEveryMigrationApplies(TestDatabase db)
            throws Exception {
        db.execute("CREATE TABLE orders (id int PRIMARY KEY, total int)",
                "INSERT INTO orders SELECT g, g FROM generate_series(1, 100) g",
                // pg_locks is read afresh on every call (pg_stat_activity would keep a snapshot per transaction)
                """
                CREATE FUNCTION await_queued_blocker() RETURNS void LANGUAGE plpgsql AS $$
                DECLARE
                    deadline timestamptz := clock_timestamp() + interval '60 seconds';
                BEGIN
                    WHILE NOT EXISTS (SELECT 1 FROM pg_locks
                                      WHERE relation = 'orders'::regclass AND NOT granted) LOOP
                        IF clock_timestamp() > deadline THEN
                            RAISE EXCEPTION 'the reconnecting client did not queue for orders within 60 s';
                        END IF;
                        PERFORM pg_sleep(0.01);
                    END LOOP;
                END $$""");
        ReconnectingBlocker blocker = new ReconnectingBlocker(db);
        blocker.start();
        eventually().until(() -> blocker.locks.get() >= 1 || !blocker.thread.isAlive());
        assertThat(blocker.locks.get()).as("the blocker holds its lock before the migration starts").isEqualTo(1);

        PidRecordingDataSource dataSource = new PidRecordingDataSource(db.dataSource());
        RecordingGuardListener events = new RecordingGuardListener();
        // a lock timeout far above the time the guard needs, so it never runs out; retries configured, never used
        GuardSettings settings = Reliability.settings().withLockTimeout(Duration.ofSeconds(20))
            .withLockRetries(LOCK_RETRIES).withLockRetryDelay(Duration.ofMillis(100));
        MigrateResult result;
        try {
            result = new FlywayGuard(settings, StandardBlockingAction.TERMINATE, events)
                .migrate(flyway(dataSource, "reliability_reconnect", "history_reconnect").load());
        }
        finally {
            blocker.stop();
        }

        // the blocker thread ends within its bound, with no unexpected error
        blocker.thread.join(Reliability.DEADLINE.toMillis());
        assertThat(blocker.thread.isAlive()).as("blocker thread ended").isFalse();
        assertThat(blocker.unexpected).as("blocker thread error").isNull();

        // every migration applied, each after exactly one termination of the client; no lock timeout, no retry
        assertThat(result.success).isTrue();
        assertThat(result.migrationsExecuted).isEqualTo(MIGRATIONS);
        for (int i = 1; i <= MIGRATIONS; i++) {
            assertThat(hasColumn(db, "public", "orders", "c" + i)).as("c" + i).isTrue();
        }
        assertThat(db.queryValue("SELECT count(*) FROM history_reconnect WHERE success AND version <> '0'"))
            .isEqualTo((long) MIGRATIONS);
        assertThat(events.lockTimeouts).isEmpty();
        assertThat(events.migrationsStarted()).as("each migration ran once").hasSize(MIGRATIONS).doesNotHaveDuplicates();
        List<Integer> terminated = events.terminatedPids();
        assertThat(terminated).hasSize(MIGRATIONS).doesNotHaveDuplicates();
        assertThat(blocker.reconnects.get()).isEqualTo(MIGRATIONS);
        assertThat(blocker.pids).hasSize(MIGRATIONS + 1).containsAll(terminated);
        assertThat(events.reports).extracting(BlockerReport::outcome).containsOnly(BlockerOutcome.TERMINATED);

        // only the client's sessions were terminated; no session pgmigrate or Flyway used was
        assertThat(terminated).doesNotContainAnyElementsOf(dataSource.pids);
        assertThat(events.reports).extracting(BlockerReport::blocker)
            .allSatisfy((b) -> assertThat(b.applicationName()).isEqualTo("reconnecting-blocker"));
        for (int pid : terminated) {
            assertThat(db.isAlive(pid)).as("terminated pid %d", pid).isFalse();
        }
        assertThat(events.runs).singleElement().satisfies((run) -> {
            assertThat(run.backendPids()).doesNotContainAnyElementsOf(terminated);
            assertThat(run.success()).isTrue();
        });
        assertThat(events.failures).isEmpty();
        assertThat(Reliability.pgmigrateThreadAlive()).isFalse();
        eventually().until(() -> Reliability.pgmigrateSessions(db) == 0);
    }

    /**
     * A client that, each time its session is terminated, connects again and re-takes ACCESS SHARE on
     * orders, at most {@link #MAX_RECONNECTS} times. It keeps its transaction open with short server-side
     * sleeps, so it notices its termination at once and the lock is held the whole time.
     */
    static final class ReconnectingBlocker {

        static final int MAX_RECONNECTS = 20;

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
