package io.pgmigrate.flyway;

import static io.pgmigrate.flyway.Guarding.createOrders;
import static io.pgmigrate.flyway.Guarding.flyway;
import static io.pgmigrate.flyway.Guarding.hasColumn;
import static io.pgmigrate.flyway.Guarding.reader;
import static io.pgmigrate.flyway.Guarding.settings;
import static org.assertj.core.api.Assertions.assertThat;

import java.time.Duration;

import ch.qos.logback.classic.Level;
import io.pgmigrate.core.StandardBlockingAction;
import io.pgmigrate.testsupport.PostgresTest;
import io.pgmigrate.testsupport.TestDatabase;
import io.pgmigrate.testsupport.TestSession;
import org.flywaydb.core.api.output.MigrateResult;
import org.junit.jupiter.api.Test;

@PostgresTest
class LockTimeoutRetryTest {

    @Test
    void retriesARolledBackMigrationOnceTheBlockerHasEnded(TestDatabase db) throws Exception {
        createOrders(db);
        TestSession blocker = reader(db, "report");
        RecordingGuardListener events = RecordingGuardListener.endingAtLockTimeout(blocker);
        FlywayGuard guard = new FlywayGuard(settings().withLockTimeout(Duration.ofMillis(1500)).withLockRetries(2)
            .withLockRetryDelay(Duration.ofMillis(100)), StandardBlockingAction.SHOW, events);

        MigrateResult result;
        try (LogCapture log = new LogCapture()) {
            result = guard.migrate(flyway(db.dataSource(), "blocked").load());
            assertThat(log.at(Level.WARN, "pgmigrate: migration hit the lock timeout and was rolled back; retrying"))
                .singleElement()
                .satisfies((e) -> assertThat(LogCapture.keyValues(e)).containsEntry("migration", "2 (add email)")
                    .containsEntry("attempt", 1));
        }

        assertThat(result.success).isTrue();
        assertThat(events.lockTimeouts).singleElement().satisfies((event) -> {
            assertThat(event.migration()).isEqualTo("2 (add email)");
            assertThat(event.attempt()).isEqualTo(1);
            assertThat(event.retried()).isTrue();
            assertThat(event.lockTimeout()).isEqualTo(Duration.ofMillis(1500));
            assertThat(event.blockersSeen()).extracting((b) -> b.pid()).containsExactly(blocker.pid());
        });
        assertThat(events.finished).extracting(RecordingGuardListener.Finished::success)
            .containsExactly(true, false, true);
        assertThat(events.runs).singleElement().satisfies((run) -> {
            assertThat(run.success()).isTrue();
            assertThat(run.migrationsApplied()).isEqualTo(2);
            assertThat(run.backendPids()).hasSize(2);
        });
        assertThat(blocker.isAlive()).isTrue();
        assertThat(hasColumn(db, "orders", "email")).isTrue();
        assertThat(db.queryValue("SELECT success FROM flyway_schema_history WHERE version = '2'")).isEqualTo(true);
        assertThat(db.queryValue("SELECT count(*) FROM flyway_schema_history WHERE version = '2'")).isEqualTo(1L);
    }
}
