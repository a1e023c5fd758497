package io.pgmigrate.flyway;

import static io.pgmigrate.flyway.Guarding.eventually;
import static io.pgmigrate.flyway.Guarding.flyway;
import static io.pgmigrate.flyway.Guarding.settings;
import static io.pgmigrate.flyway.Guarding.withoutTransactionalLock;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowableOfType;
import static org.junit.jupiter.api.Assertions.assertTimeoutPreemptively;

import java.sql.SQLException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;

import ch.qos.logback.classic.Level;
import ch.qos.logback.classic.spi.ILoggingEvent;
import io.pgmigrate.core.BlockerOutcome;
import io.pgmigrate.core.StandardBlockingAction;
import io.pgmigrate.testsupport.PostgresTest;
import io.pgmigrate.testsupport.TestDatabase;
import org.flywaydb.core.Flyway;
import org.flywaydb.core.api.FlywayException;
import org.flywaydb.core.api.output.MigrateResult;
import org.junit.jupiter.api.Test;

/**
 * Flyway's known hang: with its default transactional advisory lock, Flyway's main connection stays idle in
 * a transaction while the migration connection builds an index concurrently, and the build waits for it. Each test
 * migrates a schema of its own, whose {@code orders} table exists before Flyway runs (baseline 0), with
 * {@code V1: CREATE INDEX CONCURRENTLY orders_total_idx ON orders (total)} marked
 * {@code executeInTransaction=false}.
 */
@PostgresTest
class ConcurrentIndexTransactionalLockTest {

    private static final String MIGRATION = "1 (index orders)";

    private static final String ERROR_LINE = "pgmigrate: Migration " + MIGRATION + " waits for Flyway's own "
            + "connection and cannot finish.";

    @Test
    void underFlywaysDefaultsWithALockTimeoutItFailsFastSaysWhatToSetAndWhatToDrop(TestDatabase db) throws Exception {
        createOrders(db, "cic_timeout");
        RecordingGuardListener events = new RecordingGuardListener();
        FlywayGuard guard = new FlywayGuard(settings().withLockTimeout(Duration.ofSeconds(2)).withLockRetries(2),
                StandardBlockingAction.TERMINATE, events);
        Flyway flyway = flyway(db.dataSource(), "concurrently_tl").schemas("cic_timeout").load();

        NonTransactionalLockTimeoutException failure;
        List<ILoggingEvent> errors;
        long started = System.nanoTime();
        try (LogCapture log = new LogCapture()) {
            // a hang here would be the bug itself: fail the test instead of waiting for ever
            failure = assertTimeoutPreemptively(Guarding.DEADLINE,
                    () -> catchThrowableOfType(NonTransactionalLockTimeoutException.class, () -> guard.migrate(flyway)));
            errors = log.at(Level.ERROR, ERROR_LINE);
        }
        Duration took = Duration.ofNanos(System.nanoTime() - started);
        System.out.println("pgmigrate measured: default Flyway settings, lock_timeout=2s: failed after " + took);

        assertThat(failure).isNotNull();
        assertThat(failure.selfBlocked()).isTrue();
        assertThat(failure.getMessage()).contains("migration " + MIGRATION, "waited for Flyway's own connection",
                SelfBlock.CAUSE, "spring.flyway.postgresql.transactional-lock=false (Spring Boot)",
                "postgresql.transactional.lock=false (plain Flyway: flyway.postgresql.transactional.lock=false",
                "lock_timeout=2s", "attempts=1", "application=pgmigrate-migration", "flyway repair");
        // one ERROR line for the migration, with the cause and both fixes, and one event
        assertThat(errors).singleElement().satisfies((line) -> {
            assertThat(line.getFormattedMessage()).contains(SelfBlock.CAUSE,
                    "spring.flyway.postgresql.transactional-lock=false", "postgresql.transactional.lock=false",
                    "It fails when the lock timeout of 2s runs out", "migration=\"" + MIGRATION + "\"");
            assertThat(LogCapture.keyValues(line)).containsEntry("migration", MIGRATION)
                .containsEntry("lock_timeout", "2s");
        });
        assertThat(events.selfBlocked).singleElement().satisfies((event) -> {
            assertThat(event.migration()).isEqualTo(MIGRATION);
            assertThat(event.lockTimeout()).isEqualTo(Duration.ofSeconds(2));
            assertThat(event.blocker().applicationName()).isEqualTo(FlywayGuard.APPLICATION_NAME);
            assertThat(event.blocker().blockedPid()).isEqualTo(events.started.get(0).pid());
        });
        // never retried, and no Flyway connection was terminated: every blocker was protected
        assertThat(events.lockTimeouts).singleElement().satisfies((e) -> assertThat(e.retried()).isFalse());
        assertThat(failure.blockers()).isNotEmpty()
            .allSatisfy((b) -> assertThat(b.applicationName()).isEqualTo(FlywayGuard.APPLICATION_NAME));
        assertThat(events.reports).isNotEmpty()
            .allSatisfy((r) -> assertThat(r.outcome()).isEqualTo(BlockerOutcome.PROTECTED));
        assertThat(events.reports(BlockerOutcome.TERMINATED)).isEmpty();
        assertThat(db.queryValue("SELECT count(*) FROM cic_timeout.flyway_schema_history "
                + "WHERE version = '1' AND success")).isEqualTo(0L);

        // PostgreSQL committed the index before the build waited: it is left INVALID, and the message names it
        List<String> invalid = invalidIndexes(db, "cic_timeout");
        System.out.println("pgmigrate measured: invalid indexes left by the failed CREATE INDEX CONCURRENTLY: "
                + invalid);
        assertThat(invalid).containsExactly("cic_timeout.orders_total_idx");
        assertThat(failure.invalidIndexes()).isEqualTo(invalid);
        assertThat(failure.dropStatements())
            .containsExactly("DROP INDEX CONCURRENTLY IF EXISTS cic_timeout.orders_total_idx;");
        assertThat(failure.getMessage()).contains("It left an INVALID index; drop it before migrating again:\n"
                + "  DROP INDEX CONCURRENTLY IF EXISTS cic_timeout.orders_total_idx;");
        System.out.println("pgmigrate measured: self-blocked message:\n" + failure.getMessage());
        // and what it says to drop is exactly what is there
        db.execute(failure.dropStatements().toArray(String[]::new));
        assertThat(invalidIndexes(db, "cic_timeout")).isEmpty();
        assertThat(Guarding.watcherThreadAlive()).isFalse();
    }

    @Test
    void withoutALockTimeoutTheExplanationIsLoggedOnceWhileItWaits(TestDatabase db) throws Exception {
        createOrders(db, "cic_wait");
        RecordingGuardListener events = new RecordingGuardListener();
        FlywayGuard guard = new FlywayGuard(settings(), StandardBlockingAction.TERMINATE, events);
        Flyway flyway = flyway(db.dataSource(), "concurrently_tl").schemas("cic_wait").load();
        ExecutorService migrator = Executors.newSingleThreadExecutor((task) -> new Thread(task, "test-migrator"));
        try (LogCapture log = new LogCapture()) {
            CompletableFuture<MigrateResult> migration = CompletableFuture.supplyAsync(() -> guard.migrate(flyway),
                    migrator);
            try {
                eventually().until(() -> !log.at(Level.ERROR, ERROR_LINE).isEmpty());
                // the watcher keeps finding Flyway's connection at every poll; the line is not repeated
                int polls = events.detections.size();
                eventually().until(() -> events.detections.size() >= polls + 10);
                assertThat(migration).isNotDone();
                assertThat(log.at(Level.ERROR, ERROR_LINE)).singleElement()
                    .satisfies((line) -> assertThat(line.getFormattedMessage()).contains(SelfBlock.CAUSE,
                            "spring.flyway.postgresql.transactional-lock=false", "postgresql.transactional.lock=false",
                            "No lock timeout is set", "lock_timeout=none"));
                assertThat(events.selfBlocked).singleElement()
                    .satisfies((event) -> assertThat(event.lockTimeout()).isNull());
                assertThat(events.reports(BlockerOutcome.TERMINATED)).isEmpty();

                // end the hang the way the line says: cancel the migration's statement
                int migrationPid = events.selfBlocked.get(0).blocker().blockedPid();
                assertThat(log.at(Level.ERROR, ERROR_LINE).get(0).getFormattedMessage())
                    .contains("SELECT pg_cancel_backend(" + migrationPid + "): migration=");
                assertThat(db.queryValue("SELECT pg_cancel_backend(?)", migrationPid)).isEqualTo(true);
                eventually().until(migration::isDone);
            }
            finally {
                if (!migration.isDone()) {
                    db.queryValue("SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE application_name = ?",
                            FlywayGuard.APPLICATION_NAME);
                }
                migrator.shutdownNow();
                assertThat(migrator.awaitTermination(Guarding.DEADLINE.toSeconds(), TimeUnit.SECONDS)).isTrue();
            }
            assertThat(migration).isCompletedExceptionally();
            assertThat(catchThrowableOfType(Exception.class, migration::join)).hasCauseInstanceOf(FlywayException.class);
            assertThat(log.at(Level.ERROR, ERROR_LINE)).hasSize(1);
        }
        assertThat(events.selfBlocked).hasSize(1);
        assertThat(events.reports).allSatisfy((r) -> assertThat(r.outcome()).isEqualTo(BlockerOutcome.PROTECTED));
        assertThat(db.queryValue("SELECT count(*) FROM cic_wait.flyway_schema_history WHERE version = '1' AND success"))
            .isEqualTo(0L);
        assertThat(Guarding.watcherThreadAlive()).isFalse();
    }

    @Test
    void withTheTransactionalLockDisabledTheIndexIsBuiltUnderTheGuard(TestDatabase db) throws Exception {
        createOrders(db, "cic_fixed");
        RecordingGuardListener events = new RecordingGuardListener();
        FlywayGuard guard = new FlywayGuard(settings().withLockTimeout(Duration.ofSeconds(2)),
                StandardBlockingAction.TERMINATE, events);
        Flyway flyway = withoutTransactionalLock(flyway(db.dataSource(), "concurrently_tl").schemas("cic_fixed"))
            .load();

        MigrateResult result;
        try (LogCapture log = new LogCapture()) {
            result = assertTimeoutPreemptively(Guarding.DEADLINE, () -> guard.migrate(flyway));
            assertThat(log.at(Level.ERROR, "pgmigrate:")).isEmpty();
        }

        assertThat(result.migrationsExecuted).isEqualTo(1);
        assertThat(events.started).extracting(RecordingGuardListener.Started::migration).containsExactly(MIGRATION);
        assertThat(events.finished).singleElement().satisfies((f) -> assertThat(f.success()).isTrue());
        assertThat(events.selfBlocked).isEmpty();
        assertThat(db.queryValue("SELECT count(*) FROM cic_fixed.flyway_schema_history WHERE version = '1' AND success"))
            .isEqualTo(1L);
        assertThat(db.queryValue("SELECT i.indisvalid FROM pg_index i "
                + "WHERE i.indexrelid = 'cic_fixed.orders_total_idx'::regclass")).isEqualTo(true);
    }

    /** A schema with the orders table the migration indexes. */
    private static void createOrders(TestDatabase db, String schema) throws SQLException {
        db.execute("CREATE SCHEMA " + schema, "CREATE TABLE " + schema + ".orders (id int PRIMARY KEY, total int)",
                "INSERT INTO " + schema + ".orders SELECT g, g * 10 FROM generate_series(1, 100) g");
    }

    /** The invalid indexes on the schema's orders table, asked on a new connection. */
    private static List<String> invalidIndexes(TestDatabase db, String schema) throws SQLException {
        List<String> names = new ArrayList<>();
        try (var connection = db.dataSource().getConnection();
                var statement = connection.prepareStatement("SELECT format('%I.%I', n.nspname, c.relname) "
                        + "FROM pg_index i JOIN pg_class c ON c.oid = i.indexrelid "
                        + "JOIN pg_namespace n ON n.oid = c.relnamespace "
                        + "WHERE NOT i.indisvalid AND i.indrelid = to_regclass(? || '.orders') ORDER BY 1")) {
            statement.setString(1, schema);
            try (var rows = statement.executeQuery()) {
                while (rows.next()) {
                    names.add(rows.getString(1));
                }
            }
        }
        return names;
    }
}
