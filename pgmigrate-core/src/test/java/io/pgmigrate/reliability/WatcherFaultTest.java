package io.pgmigrate.reliability;

import java.util.List;
import java.util.Set;
import java.util.concurrent.CompletableFuture;

import ch.qos.logback.classic.Level;
import io.pgmigrate.core.BlockerOutcome;
import io.pgmigrate.core.BlockerReport;
import io.pgmigrate.core.GuardSettings;
import io.pgmigrate.core.StandardBlockingAction;
import io.pgmigrate.core.internal.Watcher;
import io.pgmigrate.flyway.FlywayGuard;
import io.pgmigrate.flyway.LogCapture;
import io.pgmigrate.flyway.RecordingGuardListener;
import io.pgmigrate.testsupport.PostgresTest;
import io.pgmigrate.testsupport.TestDatabase;
import io.pgmigrate.testsupport.TestSession;
import org.flywaydb.core.api.output.MigrateResult;
import org.junit.jupiter.api.Test;

import static io.pgmigrate.reliability.Reliability.eventually;
import static io.pgmigrate.reliability.Reliability.flyway;
import static io.pgmigrate.reliability.Reliability.hasColumn;
import static org.assertj.core.api.Assertions.assertThat;

/**
 * Issue 7: faults of the watcher itself, through the Flyway guard. The watcher never fails a migration: its
 * errors are logged (one WARN line for an error that repeats) and passed to {@code watcherFailed}, which the
 * Spring Boot auto-configuration counts in {@code pgmigrate.watcher.errors}.
 */
@PostgresTest
class WatcherFaultTest {

    private static final String WATCHER_FAILED = "pgmigrate: watcher poll failed";

    @Test
    void theWatchersConnectionKilledMidRunIsReportedOnceAndTheReconnectedWatcherStillEndsTheNextBlocker(
            TestDatabase db) throws Exception {
        db.execute("DROP TABLE IF EXISTS orders, invoices", "CREATE TABLE orders (id int)", "CREATE TABLE invoices (id int)");
        // an excluded backup holds orders (V1): the watcher sees it every poll and leaves it alone, so the run
        // lasts until the test lets V1 go; a report holds invoices (V2)
        TestSession backup = db.session("backup-tool").begin().execute("SELECT count(*) FROM orders");
        TestSession report = db.session("report").begin().execute("SELECT count(*) FROM invoices");
        GuardSettings defaults = Reliability.settings();
        GuardSettings settings = defaults.withWatch(defaults.watch().withExcludedApplicationNames(Set.of("backup-tool")));
        RecordingGuardListener events = new RecordingGuardListener();
        try (LogCapture log = new LogCapture()) {
            CompletableFuture<MigrateResult> run = Reliability.inBackground("watcher-killed",
                    () -> new FlywayGuard(settings, StandardBlockingAction.TERMINATE, events)
                        .migrate(flyway(db.dataSource(), "reliability_watcher", "history_killed").load()));
            eventually().until(() -> !events.reports(BlockerOutcome.EXCLUDED).isEmpty() || run.isDone());
            List<Integer> watchers = db.pidsOf(Watcher.APPLICATION_NAME);
            assertThat(watchers).hasSize(1);

            db.execute("SELECT pg_terminate_backend(" + watchers.get(0) + ")");
            eventually().until(() -> !events.failures.isEmpty() || run.isDone());
            assertThat(run).as("the migration still waits for the backup").isNotDone();
            backup.rollback();
            MigrateResult result = Reliability.finish(run);

            // the migration went on: both applied, the report blocking V2 was ended by the reconnected watcher
            assertThat(result.success).isTrue();
            assertThat(result.migrationsExecuted).isEqualTo(2);
            assertThat(hasColumn(db, "public", "orders", "note")).isTrue();
            assertThat(hasColumn(db, "public", "invoices", "note")).isTrue();
            assertThat(events.terminatedPids()).containsExactly(report.pid());
            assertThat(backup.isAlive()).isTrue();
            // one failure, reported to the listener (counted) and logged once at WARN, with the cause
            assertThat(events.failures).hasSize(1);
            assertThat(log.at(Level.WARN, WATCHER_FAILED)).singleElement()
                .satisfies((line) -> assertThat(line.getFormattedMessage())
                    .contains("terminating connection due to administrator command"));
            assertThat(events.runs).singleElement().satisfies((r) -> assertThat(r.success()).isTrue());
        }
        assertThat(Reliability.pgmigrateThreadAlive()).isFalse();
        eventually().until(() -> Reliability.pgmigrateSessions(db) == 0);
    }

    @Test
    void aWatcherWhoseQueriesAreDeniedLogsOnceCountsEachFailureAndTheMigrationCompletesWhenTheBlockerEnds(
            TestDatabase db) throws Exception {
        String migrator = db.createRole("denied");
        db.execute("DROP TABLE IF EXISTS orders", "CREATE TABLE orders (id int)", "ALTER TABLE orders OWNER TO " + migrator,
                // in this database only: pg_proc is per database; superusers keep the right
                "REVOKE EXECUTE ON FUNCTION pg_blocking_pids(integer) FROM PUBLIC");
        try (LogCapture log = new LogCapture()) {
            TestSession report = db.session("report").begin().execute("SELECT count(*) FROM orders");
            RecordingGuardListener events = new RecordingGuardListener();
            CompletableFuture<MigrateResult> run = Reliability.inBackground("watcher-denied",
                    () -> new FlywayGuard(Reliability.settings(), StandardBlockingAction.TERMINATE, events)
                        .migrate(flyway(db.dataSource(migrator, migrator), "reliability_watcher", "history_denied")
                            .target("1")
                            .load()));
            eventually().until(() -> events.failures.size() >= 3 || run.isDone());

            assertThat(run).as("the migration waits; the watcher does not fail it").isNotDone();
            assertThat(events.failures).allSatisfy((failure) -> assertThat(failure)
                .hasMessageContaining("permission denied for function pg_blocking_pids"));
            assertThat(report.isAlive()).isTrue();
            report.rollback();
            MigrateResult result = Reliability.finish(run);

            assertThat(result.success).isTrue();
            assertThat(result.migrationsExecuted).isEqualTo(1);
            assertThat(hasColumn(db, "public", "orders", "note")).isTrue();
            assertThat(events.reports).extracting(BlockerReport::outcome).isEmpty();
            assertThat(log.at(Level.WARN, WATCHER_FAILED)).as("one WARN for an error that repeats").singleElement()
                .satisfies((line) -> assertThat(line.getFormattedMessage()).contains("permission denied"));
            assertThat(events.runs).singleElement().satisfies((r) -> assertThat(r.success()).isTrue());
        }
        finally {
            db.execute("GRANT EXECUTE ON FUNCTION pg_blocking_pids(integer) TO PUBLIC");
        }
        assertThat(Reliability.pgmigrateThreadAlive()).isFalse();
        eventually().until(() -> Reliability.pgmigrateSessions(db) == 0);
    }
}
