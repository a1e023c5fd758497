package io.pgmigrate.reliability;

import static io.pgmigrate.reliability.Reliability.eventually;
import static io.pgmigrate.reliability.Reliability.flyway;
import static io.pgmigrate.reliability.Reliability.hasColumn;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowable;

import java.sql.SQLException;
import java.time.Duration;
import java.util.concurrent.CompletableFuture;

import io.pgmigrate.core.BlockerOutcome;
import io.pgmigrate.core.StandardBlockingAction;
import io.pgmigrate.flyway.FlywayGuard;
import io.pgmigrate.core.GuardSettings;
import io.pgmigrate.flyway.LockTimeoutExhaustedException;
import io.pgmigrate.flyway.NonTransactionalLockTimeoutException;
import io.pgmigrate.flyway.RecordingGuardListener;
import io.pgmigrate.testsupport.DedicatedPostgres;
import io.pgmigrate.testsupport.TestDatabase;
import io.pgmigrate.testsupport.TestSession;
import org.flywaydb.core.Flyway;
import org.flywaydb.core.api.FlywayException;
import org.flywaydb.core.api.output.MigrateResult;
import org.junit.jupiter.api.Test;

/**
 * Issue 7: PostgreSQL restarts (fast shutdown, then start on the same port and data) while a migration waits
 * for a lock. Runs on a server of its own, never on the shared one.
 */
class PostgresRestartTest {

    /**
     * Retries are configured: a migration that failed for another reason than its lock timeout must still not be
     * tried again.
     */
    private static final GuardSettings SETTINGS = Reliability.settings().withLockTimeout(Duration.ofSeconds(30))
        .withLockRetries(3)
        .withLockRetryDelay(Duration.ofMillis(100));

    @Test
    void aRestartWhileAMigrationWaitsFailsItClearlyWithoutARetryAndTheNextRunMigratesCleanly() throws Exception {
        try (DedicatedPostgres postgres = DedicatedPostgres.startNew()) {
            TestDatabase db = postgres.createDatabase("restart");
            db.execute("CREATE TABLE orders (id int PRIMARY KEY, total int)", "CREATE TABLE audit (id int)",
                    "INSERT INTO orders SELECT g, g FROM generate_series(1, 100) g");
            TestSession report = db.session("report").begin().execute("SELECT count(*) FROM orders");
            RecordingGuardListener events = new RecordingGuardListener();
            Flyway flyway = flyway(db.dataSource(), "reliability_restart", "history_restart").load();
            CompletableFuture<MigrateResult> run = migrateBehindReport(flyway, events);
            assertThat(hasColumn(db, "public", "audit", "note")).as("its first step is not committed").isFalse();

            restartFailsTheMigrationOnceWithoutARetry(postgres, run, events);

            postgres.start();
            // PostgreSQL rolled the half-done migration back: neither step, no history row
            assertThat(hasColumn(db, "public", "audit", "note")).isFalse();
            assertThat(hasColumn(db, "public", "orders", "note")).isFalse();
            assertThat(db.queryValue("SELECT count(*) FROM history_restart WHERE version = '1'")).isEqualTo(0L);
            assertThat(db.isAlive(report.pid())).isFalse();

            RecordingGuardListener next = new RecordingGuardListener();
            MigrateResult result = new FlywayGuard(SETTINGS, StandardBlockingAction.TERMINATE, next).migrate(flyway);

            assertThat(result.success).isTrue();
            assertThat(result.migrationsExecuted).isEqualTo(1);
            assertThat(hasColumn(db, "public", "audit", "note")).isTrue();
            assertThat(hasColumn(db, "public", "orders", "note")).isTrue();
            assertThat(db.queryValue("SELECT count(*) FROM history_restart WHERE version = '1' AND success"))
                .isEqualTo(1L);
            assertThat(next.failures).isEmpty();
            assertThat(next.reports).isEmpty();
            assertThat(Reliability.pgmigrateThreadAlive()).isFalse();
            eventually().until(() -> Reliability.pgmigrateSessions(db) == 0);
        }
    }

    @Test
    void aRestartWhileAMigrationOutsideATransactionWaitsLeavesItsFirstStepAndTheNextRunRefusesToRunItAgain()
            throws Exception {
        try (DedicatedPostgres postgres = DedicatedPostgres.startNew()) {
            TestDatabase db = postgres.createDatabase("restart_nontx");
            db.execute("CREATE TABLE orders (id int PRIMARY KEY, total int)", "CREATE TABLE audit (id int)");
            TestSession report = db.session("report").begin().execute("SELECT count(*) FROM orders");
            RecordingGuardListener events = new RecordingGuardListener();
            Flyway flyway = flyway(db.dataSource(), "reliability_restart_nontx", "history_restart_nontx").load();
            CompletableFuture<MigrateResult> run = migrateBehindReport(flyway, events);
            // outside a transaction, the first step is committed before the second waits
            assertThat(hasColumn(db, "public", "audit", "note")).isTrue();

            // a half-applied migration is never tried again
            restartFailsTheMigrationOnceWithoutARetry(postgres, run, events);

            postgres.start();
            // PostgreSQL could not take the first step back; the second never ran. Flyway's connection died with
            // the server, so it could not record the failure either: the migration looks pending.
            assertThat(hasColumn(db, "public", "audit", "note")).isTrue();
            assertThat(hasColumn(db, "public", "orders", "note")).isFalse();
            assertThat(db.queryValue("SELECT count(*) FROM history_restart_nontx WHERE version = '1'")).isEqualTo(0L);

            // the next start-up runs it again and stops at the step that was already applied: it fails clearly,
            // it is not retried, and it changes nothing
            RecordingGuardListener second = new RecordingGuardListener();
            Throwable again = catchThrowable(
                    () -> new FlywayGuard(SETTINGS, StandardBlockingAction.TERMINATE, second).migrate(flyway));
            assertThat(again).isInstanceOf(FlywayException.class)
                .isNotInstanceOf(LockTimeoutExhaustedException.class)
                .isNotInstanceOf(NonTransactionalLockTimeoutException.class);
            assertThat(sqlStates(again)).as("SQL states in %s", again).contains("42701");
            // Flyway records no failed row here either: the migration stays pending, with nothing to repair
            assertThat(db.queryValue("SELECT count(*) FROM history_restart_nontx WHERE version = '1'")).isEqualTo(0L);
            assertThat(second.migrationsStarted()).containsExactly("1 (add notes)");
            assertThat(hasColumn(db, "public", "orders", "note")).isFalse();
            assertThat(Reliability.pgmigrateThreadAlive()).isFalse();

            // the operator takes the first step back; then the migration applies cleanly
            db.execute("ALTER TABLE audit DROP COLUMN note");
            MigrateResult result = new FlywayGuard(SETTINGS, StandardBlockingAction.TERMINATE, new RecordingGuardListener())
                .migrate(flyway);
            assertThat(result.success).isTrue();
            assertThat(result.migrationsExecuted).isEqualTo(1);
            assertThat(hasColumn(db, "public", "audit", "note")).isTrue();
            assertThat(hasColumn(db, "public", "orders", "note")).isTrue();
            assertThat(db.queryValue("SELECT count(*) FROM history_restart_nontx WHERE version = '1' AND success"))
                .isEqualTo(1L);
            assertThat(db.isAlive(report.pid())).isFalse();
            assertThat(Reliability.pgmigrateThreadAlive()).isFalse();
            eventually().until(() -> Reliability.pgmigrateSessions(db) == 0);
        }
    }

    /**
     * Starts the guarded migration in the background and returns once it waits for the report. Show leaves the
     * report alone, so the migration keeps waiting.
     */
    private static CompletableFuture<MigrateResult> migrateBehindReport(Flyway flyway, RecordingGuardListener events) {
        CompletableFuture<MigrateResult> run = Reliability.inBackground("restart-migration",
                () -> new FlywayGuard(SETTINGS, StandardBlockingAction.SHOW, events).migrate(flyway));
        eventually().until(() -> !events.reports(BlockerOutcome.SHOWN).isEmpty() || run.isDone());
        assertThat(run).as("the migration waits for the report").isNotDone();
        return run;
    }

    /**
     * Stops PostgreSQL under the waiting migration: it fails with Flyway's own error for the lost connection, once
     * (no retry, no lock-timeout event, one failed run), and the watcher's thread ends with the run.
     */
    private static void restartFailsTheMigrationOnceWithoutARetry(DedicatedPostgres postgres,
            CompletableFuture<MigrateResult> run, RecordingGuardListener events) {
        postgres.stop();
        Throwable failure = catchThrowable(() -> Reliability.finish(run));

        assertThat(failure).isInstanceOf(FlywayException.class)
            .isNotInstanceOf(LockTimeoutExhaustedException.class)
            .isNotInstanceOf(NonTransactionalLockTimeoutException.class);
        System.out.println("pgmigrate measured: restart failure: " + failure);
        assertThat(sqlStates(failure)).as("SQL states in %s", failure)
            .anyMatch((state) -> state.equals("57P01") || state.startsWith("08"));
        assertThat(events.migrationsStarted()).containsExactly("1 (add notes)");
        assertThat(events.lockTimeouts).isEmpty();
        assertThat(events.runs).singleElement().satisfies((r) -> {
            assertThat(r.success()).isFalse();
            assertThat(r.migrationsApplied()).isZero();
            assertThat(r.failure()).isNotBlank();
        });
        assertThat(Reliability.pgmigrateThreadAlive()).isFalse();
    }

    private static java.util.List<String> sqlStates(Throwable failure) {
        java.util.List<String> states = new java.util.ArrayList<>();
        for (Throwable current = failure; current != null; current = current.getCause()) {
            if (current instanceof SQLException sql && sql.getSQLState() != null) {
                states.add(sql.getSQLState());
            }
        }
        return states;
    }
}
