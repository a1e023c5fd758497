package io.pgmigrate.flyway;

import io.pgmigrate.core.GuardSettings;
import static io.pgmigrate.flyway.Guarding.createOrders;
import static io.pgmigrate.flyway.Guarding.eventually;
import static io.pgmigrate.flyway.Guarding.flyway;
import static io.pgmigrate.flyway.Guarding.hasColumn;
import static io.pgmigrate.flyway.Guarding.reader;
import static io.pgmigrate.flyway.Guarding.settings;
import static io.pgmigrate.flyway.Guarding.withoutTransactionalLock;
import static org.assertj.core.api.Assertions.assertThat;

import java.sql.SQLException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.Executor;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;

import ch.qos.logback.classic.Level;
import io.pgmigrate.core.BlockerOutcome;
import io.pgmigrate.core.StandardBlockingAction;
import io.pgmigrate.core.WaitCancellation;
import io.pgmigrate.testsupport.PostgresTest;
import io.pgmigrate.testsupport.TestDatabase;
import io.pgmigrate.testsupport.TestSession;
import org.flywaydb.core.Flyway;
import org.flywaydb.core.api.output.MigrateResult;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * The bounded stall: a blocker the guard keeps (an excluded application name) must not let the waiting migration
 * queue the application without bound.
 */
@PostgresTest
class ApplicationStallTest {

    private static final Duration BOUND = Duration.ofSeconds(1);

    /**
     * A thread for each task: the common pool has one worker on a 2-core machine, and on Java 25 CompletableFuture
     * runs its tasks there even then (Java 17 gives each a thread), so a load loop there would keep the migration
     * from ever starting.
     */
    private static final Executor THREADS = (task) -> {
        Thread thread = new Thread(task, "test-stall");
        thread.setDaemon(true);
        thread.start();
    };

    /** The tests of this class share one database: each starts from no tables. */
    @BeforeEach
    void dropTables(TestDatabase db) throws SQLException {
        db.execute("DROP MATERIALIZED VIEW IF EXISTS order_totals",
                "DROP TABLE IF EXISTS orders, customers, reports, notes, flyway_schema_history");
    }

    /** Terminate, the default action, with the blocker's application name excluded, so it is kept. */
    private static GuardSettings keeping(String applicationName, Duration bound) {
        GuardSettings settings = settings();
        return settings.withWatch(settings.watch().withExcludedApplicationNames(Set.of(applicationName))
            .withMaxApplicationStall(bound)).withLockRetryDelay(Duration.ofMillis(100));
    }

    @Test
    void theWaitIsCancelledSoTheApplicationProceedsAndTheMigrationIsRetriedOnceTheBlockerEnds(TestDatabase db)
            throws Exception {
        createOrders(db);
        TestSession blocker = reader(db, "report");
        RecordingGuardListener events = new RecordingGuardListener();
        FlywayGuard guard = new FlywayGuard(keeping("report", BOUND).withLockRetries(1),
                StandardBlockingAction.TERMINATE, events);

        try (LogCapture log = new LogCapture(); TestSession app = db.session("app")) {
            CompletableFuture<MigrateResult> migration = CompletableFuture
                .supplyAsync(() -> guard.migrate(flyway(db.dataSource(), "blocked").load()), THREADS);
            eventually().until(() -> migrationWaits(db));
            long queuedAt = System.nanoTime();
            CompletableFuture<Void> query = app.executeAsync("SELECT count(*) FROM orders");
            eventually().until(() -> app.isWaitingForLock());

            // the application's query proceeds while the blocker is still there: the migration stopped queueing it
            query.get(Guarding.DEADLINE.toSeconds(), TimeUnit.SECONDS);
            System.out.println("pgmigrate measured: application query queued, then ran, in "
                    + TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - queuedAt) + " ms (bound " + BOUND.toMillis()
                    + " ms)");
            assertThat(blocker.isAlive()).isTrue();
            // the watcher reports after the cancel has landed: the query may finish first
            eventually().until(() -> !events.waitCancellations.isEmpty());
            assertThat(events.waitCancellations).singleElement().satisfies((event) -> {
                assertThat(event.reason()).isEqualTo(WaitCancellation.Reason.APPLICATION_STALL);
                assertThat(event.work()).isEqualTo("migration 2 (add email)");
                assertThat(event.waitingFor()).isEqualTo("public.orders");
                assertThat(event.queuedSessions()).isEqualTo(1);
                assertThat(event.applicationQueued()).isGreaterThanOrEqualTo(BOUND);
                assertThat(event.keptBlockers()).singleElement().satisfies((kept) -> {
                    assertThat(kept.blocker().pid()).isEqualTo(blocker.pid());
                    assertThat(kept.outcome()).isEqualTo(BlockerOutcome.EXCLUDED);
                });
            });
            assertThat(log.at(Level.WARN, "pgmigrate: Cancelled the lock wait of migration 2 (add email)"))
                .singleElement()
                .satisfies((e) -> assertThat(LogCapture.keyValues(e)).containsEntry("reason", "application_stall")
                    .containsEntry("queued_sessions", 1)
                    .containsEntry("object", "public.orders")
                    .hasEntrySatisfying("kept", (kept) -> assertThat(kept.toString())
                        .contains("pid " + blocker.pid() + " excluded", "application_name=report is excluded")));

            // the retry waits again, with nobody queued behind it, until the blocker ends
            eventually().until(() -> events.started.size() == 3 && migrationWaits(db));
            blocker.rollback();
            MigrateResult result = migration.get(Guarding.DEADLINE.toSeconds(), TimeUnit.SECONDS);

            assertThat(result.success).isTrue();
            assertThat(log.at(Level.WARN, "pgmigrate: migration's lock wait was cancelled because the application "
                    + "queued behind it, and it was rolled back; retrying")).singleElement()
                .satisfies((e) -> assertThat(LogCapture.keyValues(e)).containsEntry("attempt", 1));
        }
        assertThat(events.waitCancellations).hasSize(1);
        assertThat(events.finished).extracting(RecordingGuardListener.Finished::success)
            .containsExactly(true, false, true);
        assertThat(hasColumn(db, "orders", "email")).isTrue();
        assertThat(db.queryValue("SELECT count(*) FROM flyway_schema_history WHERE version = '2' AND success"))
            .isEqualTo(1L);
        assertThat(Guarding.watcherThreadAlive()).isFalse();
    }

    @Test
    void withNoRetryLeftTheRunFailsAndSaysWhichBlockerWasKeptAndWhy(TestDatabase db) throws Exception {
        createOrders(db);
        TestSession blocker = reader(db, "report");
        RecordingGuardListener events = new RecordingGuardListener();
        FlywayGuard guard = new FlywayGuard(keeping("report", BOUND), StandardBlockingAction.TERMINATE, events);

        try (TestSession app = db.session("app")) {
            CompletableFuture<MigrateResult> migration = CompletableFuture
                .supplyAsync(() -> guard.migrate(flyway(db.dataSource(), "blocked").load()), THREADS);
            eventually().until(() -> migrationWaits(db));
            CompletableFuture<Void> query = app.executeAsync("SELECT count(*) FROM orders");

            Throwable failure = eventually().until(() -> migration.handle((result, error) -> error).getNow(null),
                    (error) -> error != null);
            query.get(Guarding.DEADLINE.toSeconds(), TimeUnit.SECONDS);

            ApplicationStallException stall = (ApplicationStallException) failure.getCause();
            assertThat(stall.migration()).isEqualTo("2 (add email)");
            assertThat(stall.attempts()).isEqualTo(1);
            assertThat(stall.transactional()).isTrue();
            assertThat(stall.getMessage()).contains("migration 2 (add email) kept the application queued behind its "
                    + "lock wait for longer than max-application-stall", "rolled back each attempt",
                    "max_application_stall=1s", "queued_sessions=1", "object=public.orders",
                    "pid=" + blocker.pid(), "application=report", "kept=excluded",
                    "reason=\"application_name=report is excluded\"", "lock-retries", "max-application-stall");
            System.out.println("pgmigrate measured: stall message:\n" + stall.getMessage());
        }
        assertThat(blocker.isAlive()).isTrue();
        assertThat(hasColumn(db, "orders", "email")).isFalse();
        assertThat(db.queryValue("SELECT count(*) FROM flyway_schema_history WHERE version = '2'")).isEqualTo(0L);
        assertThat(Guarding.watcherThreadAlive()).isFalse();
    }

    @Test
    void aMigrationOutsideATransactionIsNotRetriedAndTheFailureSaysWhatItMayHaveLeft(TestDatabase db)
            throws Exception {
        createOrders(db);
        // SHARE conflicts with the SHARE UPDATE EXCLUSIVE lock CREATE INDEX CONCURRENTLY takes first
        TestSession blocker = db.session("report").begin().execute("LOCK TABLE orders IN SHARE MODE");
        RecordingGuardListener events = new RecordingGuardListener();
        FlywayGuard guard = new FlywayGuard(keeping("report", BOUND).withLockRetries(2),
                StandardBlockingAction.TERMINATE, events);
        Flyway flyway = withoutTransactionalLock(flyway(db.dataSource(), "concurrently"))
            .load();

        try (TestSession maintenance = db.session("app").begin()) {
            CompletableFuture<MigrateResult> migration = CompletableFuture.supplyAsync(() -> guard.migrate(flyway),
                    THREADS);
            eventually().until(() -> migrationWaits(db));
            // a session whose lock request conflicts with the index build's queues behind it
            CompletableFuture<Void> queued = maintenance.executeAsync("LOCK TABLE orders IN SHARE UPDATE EXCLUSIVE MODE");

            Throwable failure = eventually().until(() -> migration.handle((result, error) -> error).getNow(null),
                    (error) -> error != null);
            ApplicationStallException stall = (ApplicationStallException) failure.getCause();
            assertThat(stall.migration()).isEqualTo("1 (index orders)");
            assertThat(stall.transactional()).isFalse();
            assertThat(stall.attempts()).isEqualTo(1);
            // it waited for its first lock on the table, before PostgreSQL created the index: nothing to drop
            assertThat(stall.invalidIndexes()).isEmpty();
            assertThat(stall.getMessage()).contains("it is not retried", "does not run in a transaction",
                    "failed in the schema history", "It left no INVALID index.", "flyway repair",
                    "pid=" + blocker.pid());
            assertThat(queued).isNotDone();
            blocker.rollback();
            queued.get(Guarding.DEADLINE.toSeconds(), TimeUnit.SECONDS);
        }
        assertThat(events.started).hasSize(1);
        assertThat(db.queryValue("SELECT count(*) FROM flyway_schema_history WHERE version = '1' AND NOT success"))
            .isEqualTo(1L);
        assertThat(Guarding.watcherThreadAlive()).isFalse();
    }

    @Test
    void aCallbackIsNotRetriedAndTheFailureSaysTheMigrationsBeforeItStayApplied(TestDatabase db) throws Exception {
        createOrders(db);
        db.execute("CREATE MATERIALIZED VIEW order_totals AS SELECT sum(total) AS total FROM orders");
        // reads the view in a transaction it keeps open: REFRESH MATERIALIZED VIEW (afterMigrate.sql) waits for it
        TestSession dashboard = db.session("dashboard").begin().execute("SELECT * FROM order_totals");
        RecordingGuardListener events = new RecordingGuardListener();
        FlywayGuard guard = new FlywayGuard(keeping("dashboard", BOUND).withLockRetries(2),
                StandardBlockingAction.TERMINATE, events);

        try (TestSession app = db.session("app")) {
            CompletableFuture<MigrateResult> migration = CompletableFuture
                .supplyAsync(() -> guard.migrate(flyway(db.dataSource(), "callback_refresh").load()), THREADS);
            eventually().until(() -> migrationWaits(db));
            CompletableFuture<Void> query = app.executeAsync("SELECT * FROM order_totals");

            Throwable failure = eventually().until(() -> migration.handle((result, error) -> error).getNow(null),
                    (error) -> error != null);
            query.get(Guarding.DEADLINE.toSeconds(), TimeUnit.SECONDS);

            ApplicationStallException stall = (ApplicationStallException) failure.getCause();
            assertThat(stall.callback()).isTrue();
            assertThat(stall.migration()).isEqualTo("afterMigrate");
            assertThat(stall.attempts()).isEqualTo(1);
            assertThat(stall.getMessage()).startsWith("pgmigrate: callback afterMigrate kept the application queued "
                    + "behind its lock wait for longer than max-application-stall, so pgmigrate cancelled the wait; "
                    + "callbacks are not retried: callback=\"afterMigrate\" max_application_stall=1s")
                .contains("migrations_applied=1", "The migrations applied before it stay applied",
                        "pid=" + dashboard.pid(), "kept=excluded");
        }
        assertThat(dashboard.isAlive()).isTrue();
        assertThat(events.waitCancellations).singleElement()
            .satisfies((event) -> assertThat(event.work()).isEqualTo("callback afterMigrate"));
        assertThat(db.queryValue("SELECT success FROM flyway_schema_history WHERE version = '1'")).isEqualTo(true);
        assertThat(Guarding.watcherThreadAlive()).isFalse();
    }

    @Test
    void aWaitThatQueuesNobodyIsNotCancelled(TestDatabase db) throws Exception {
        createOrders(db);
        TestSession blocker = reader(db, "report");
        RecordingGuardListener events = new RecordingGuardListener();
        Duration bound = Duration.ofMillis(200);
        FlywayGuard guard = new FlywayGuard(keeping("report", bound), StandardBlockingAction.TERMINATE, events);

        CompletableFuture<MigrateResult> migration = CompletableFuture
            .supplyAsync(() -> guard.migrate(flyway(db.dataSource(), "blocked").load()), THREADS);
        // waited many times the bound, as PostgreSQL measures it
        eventually().until(() -> migrationWaitedLongerThan(db, bound.multipliedBy(8)));

        assertThat(migration).isNotDone();
        assertThat(events.waitCancellations).isEmpty();
        blocker.rollback();
        assertThat(migration.get(Guarding.DEADLINE.toSeconds(), TimeUnit.SECONDS).success).isTrue();
        assertThat(events.waitCancellations).isEmpty();
        assertThat(events.finished).extracting(RecordingGuardListener.Finished::success).containsExactly(true, true);
    }

    @Test
    void aConcurrentIndexBuildWaitingForAnOldSnapshotIsNotCancelledUnderApplicationLoad(TestDatabase db)
            throws Exception {
        createOrders(db);
        db.execute("CREATE TABLE reports (id int)");
        // an old snapshot, on another table: CREATE INDEX CONCURRENTLY waits for it to end; its name keeps it
        TestSession report = db.session("report").begin().execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ")
            .execute("SELECT count(*) FROM reports");
        RecordingGuardListener events = new RecordingGuardListener();
        Duration bound = Duration.ofMillis(200);
        FlywayGuard guard = new FlywayGuard(keeping("report", bound), StandardBlockingAction.TERMINATE, events);
        Flyway flyway = withoutTransactionalLock(flyway(db.dataSource(), "concurrently"))
            .load();
        AtomicBoolean loading = new AtomicBoolean(true);
        AtomicLong appQueries = new AtomicLong();
        List<CompletableFuture<Void>> load = new ArrayList<>();
        for (int i = 0; i < 3; i++) {
            TestSession app = db.session("app");
            int id = i + 1;
            load.add(CompletableFuture.runAsync(() -> {
                try (app) {
                    while (loading.get()) {
                        app.execute("SELECT count(*) FROM orders", "UPDATE orders SET total = total + 1 WHERE id = "
                                + id);
                        appQueries.incrementAndGet();
                    }
                }
                catch (SQLException ex) {
                    throw new IllegalStateException(ex);
                }
            }, THREADS));
        }
        try {
            CompletableFuture<MigrateResult> migration = CompletableFuture.supplyAsync(() -> guard.migrate(flyway),
                    THREADS);
            eventually().until(() -> migrationWaitedLongerThan(db, bound.multipliedBy(8)));
            long before = appQueries.get();
            eventually().until(() -> appQueries.get() > before + 10);

            assertThat(migration).isNotDone();
            assertThat(events.waitCancellations).isEmpty();
            assertThat(events.reportsFor(report.pid())).isNotEmpty()
                .allSatisfy((kept) -> assertThat(kept.outcome().signalled()).isFalse());
            report.rollback();
            assertThat(migration.get(Guarding.DEADLINE.toSeconds(), TimeUnit.SECONDS).success).isTrue();
        }
        finally {
            loading.set(false);
            CompletableFuture.allOf(load.toArray(CompletableFuture[]::new)).get(60, TimeUnit.SECONDS);
        }
        assertThat(events.waitCancellations).isEmpty();
        assertThat(db.queryValue("SELECT indisvalid FROM pg_index WHERE indexrelid = 'orders_total_idx'::regclass"))
            .isEqualTo(true);
    }

    @Test
    void anInterruptEndsAWaitingMigrationPromptlyWithNothingApplied(TestDatabase db) throws Exception {
        createOrders(db);
        TestSession blocker = reader(db, "report");
        RecordingGuardListener events = new RecordingGuardListener();
        // no bound, no lock timeout: only the interrupt can end the wait
        FlywayGuard guard = new FlywayGuard(keeping("report", Duration.ZERO), StandardBlockingAction.TERMINATE,
                events);
        CompletableFuture<Throwable> thrown = new CompletableFuture<>();
        AtomicBoolean flagKept = new AtomicBoolean();
        Thread migrating = new Thread(() -> {
            try {
                guard.migrate(flyway(db.dataSource(), "blocked").load());
                thrown.complete(null);
            }
            catch (Throwable ex) {
                flagKept.set(Thread.currentThread().isInterrupted());
                thrown.complete(ex);
            }
        }, "migrating");
        migrating.start();
        eventually().until(() -> migrationWaits(db));

        long interrupted = System.nanoTime();
        migrating.interrupt();

        Throwable failure = thrown.get(Guarding.DEADLINE.toSeconds(), TimeUnit.SECONDS);
        System.out.println("pgmigrate measured: interrupt to migrate() throwing: "
                + TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - interrupted) + " ms");
        assertThat(failure).isNotNull().hasMessageContaining("migration 2 (add email) was interrupted while it "
                + "waited for a lock", "PostgreSQL rolled it back");
        assertThat(flagKept).isTrue();
        assertThat(Guarding.watcherThreadAlive()).isFalse();
        assertThat(events.waitCancellations).singleElement()
            .satisfies((event) -> assertThat(event.reason()).isEqualTo(WaitCancellation.Reason.INTERRUPT));
        assertThat(events.started).hasSize(2);
        assertThat(blocker.isAlive()).isTrue();
        assertThat(hasColumn(db, "orders", "email")).isFalse();
        assertThat(db.queryValue("SELECT count(*) FROM flyway_schema_history WHERE version = '2'")).isEqualTo(0L);
        assertThat(db.queryValue("SELECT count(*) FROM pg_stat_activity WHERE application_name = ?",
                FlywayGuard.APPLICATION_NAME)).isEqualTo(0L);
    }

    private static boolean migrationWaits(TestDatabase db) throws SQLException {
        return ((Long) db.queryValue("SELECT count(*) FROM pg_stat_activity WHERE application_name = ? "
                + "AND wait_event_type = 'Lock'", FlywayGuard.APPLICATION_NAME)) > 0;
    }

    private static boolean migrationWaitedLongerThan(TestDatabase db, Duration wait) throws SQLException {
        return ((Long) db.queryValue("SELECT count(*) FROM pg_locks l JOIN pg_stat_activity a ON a.pid = l.pid "
                + "WHERE a.application_name = ? AND NOT l.granted "
                + "AND clock_timestamp() - l.waitstart > make_interval(secs => ?)", FlywayGuard.APPLICATION_NAME,
                wait.toMillis() / 1000.0)) > 0;
    }
}
