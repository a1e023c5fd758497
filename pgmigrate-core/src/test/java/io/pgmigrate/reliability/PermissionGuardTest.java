package io.pgmigrate.reliability;

import static io.pgmigrate.reliability.Reliability.eventually;
import static io.pgmigrate.reliability.Reliability.flyway;
import static io.pgmigrate.reliability.Reliability.hasColumn;
import static org.assertj.core.api.Assertions.assertThat;

import java.util.concurrent.CompletableFuture;

import ch.qos.logback.classic.Level;
import io.pgmigrate.core.BlockerOutcome;
import io.pgmigrate.core.BlockerReport;
import io.pgmigrate.core.StandardBlockingAction;
import io.pgmigrate.flyway.FlywayGuard;
import io.pgmigrate.flyway.LogCapture;
import io.pgmigrate.flyway.RecordingGuardListener;
import io.pgmigrate.testsupport.PostgresTest;
import io.pgmigrate.testsupport.TestDatabase;
import io.pgmigrate.testsupport.TestSession;
import org.flywaydb.core.api.output.MigrateResult;
import org.junit.jupiter.api.Test;

/**
 * Issue 7: Flyway migrates as a role that is not a superuser, and the blocker belongs to another role. The
 * engine's side is in {@code io.pgmigrate.core.PermissionTest}; this is the same through the Flyway guard.
 */
@PostgresTest
class PermissionGuardTest {

    private static final String CANNOT_SIGNAL = "pgmigrate: Cannot signal a session blocking";

    @Test
    void withoutPgSignalBackendOneClearWarnNoCrashAndAfterTheGrantTheBlockerIsTerminated(TestDatabase db)
            throws Exception {
        String migrator = db.createRole("migrator");
        String app = db.createRole("app");
        db.execute("DROP TABLE IF EXISTS orders", "CREATE TABLE orders (id int)", "ALTER TABLE orders OWNER TO " + migrator,
                "GRANT SELECT ON orders TO " + app);
        TestSession blocker = db.sessionAs(app, "report").begin().execute("SELECT count(*) FROM orders");
        RecordingGuardListener events = new RecordingGuardListener();
        try (LogCapture log = new LogCapture()) {
            CompletableFuture<MigrateResult> run = Reliability.inBackground("not-permitted",
                    () -> new FlywayGuard(Reliability.settings(), StandardBlockingAction.TERMINATE, events)
                        .migrate(flyway(db.dataSource(migrator, migrator), "reliability_watcher", "history_perm")
                            .target("1")
                            .load()));
            eventually().until(() -> !events.reports(BlockerOutcome.NOT_PERMITTED).isEmpty() || run.isDone());
            // many more polls see the same blocker: still one report, one WARN line
            int seen = events.detections.size();
            eventually().until(() -> events.detections.size() >= seen + 10 || run.isDone());

            assertThat(run).as("the migration waits; nothing crashed").isNotDone();
            assertThat(events.reports).singleElement().satisfies((r) -> {
                assertThat(r.outcome()).isEqualTo(BlockerOutcome.NOT_PERMITTED);
                assertThat(r.blocker().pid()).isEqualTo(blocker.pid());
                assertThat(r.detail()).contains("GRANT pg_signal_backend TO " + migrator);
            });
            assertThat(log.at(Level.WARN, CANNOT_SIGNAL)).singleElement()
                .satisfies((line) -> assertThat(line.getFormattedMessage())
                    .contains("pid=" + blocker.pid(), "user=" + app, "pg_signal_backend"));
            assertThat(events.failures).isEmpty();
            assertThat(blocker.isAlive()).isTrue();

            db.execute("GRANT pg_signal_backend TO " + migrator);
            MigrateResult result = Reliability.finish(run);

            assertThat(result.success).isTrue();
            assertThat(hasColumn(db, "public", "orders", "note")).isTrue();
            assertThat(blocker.isAlive()).isFalse();
            assertThat(events.reportsFor(blocker.pid())).extracting(BlockerReport::outcome)
                .containsExactly(BlockerOutcome.NOT_PERMITTED, BlockerOutcome.TERMINATED);
            assertThat(log.at(Level.WARN, CANNOT_SIGNAL)).hasSize(1);
            assertThat(events.failures).isEmpty();
        }
        assertThat(Reliability.pgmigrateThreadAlive()).isFalse();
    }

    @Test
    void withPgSignalBackendTheBlockerOfAnotherRoleIsTerminated(TestDatabase db) throws Exception {
        String migrator = db.createRole("granted");
        String app = db.createRole("app2");
        db.execute("DROP TABLE IF EXISTS orders", "CREATE TABLE orders (id int)", "ALTER TABLE orders OWNER TO " + migrator,
                "GRANT SELECT ON orders TO " + app, "GRANT pg_signal_backend TO " + migrator);
        TestSession blocker = db.sessionAs(app, "report").begin().execute("SELECT count(*) FROM orders");
        RecordingGuardListener events = new RecordingGuardListener();

        MigrateResult result = new FlywayGuard(Reliability.settings(), StandardBlockingAction.TERMINATE, events)
            .migrate(flyway(db.dataSource(migrator, migrator), "reliability_watcher", "history_granted")
                .target("1")
                .load());

        assertThat(result.success).isTrue();
        assertThat(hasColumn(db, "public", "orders", "note")).isTrue();
        assertThat(blocker.isAlive()).isFalse();
        assertThat(events.reports).extracting(BlockerReport::outcome).containsExactly(BlockerOutcome.TERMINATED);
        assertThat(events.failures).isEmpty();
        assertThat(Reliability.pgmigrateThreadAlive()).isFalse();
    }
}
