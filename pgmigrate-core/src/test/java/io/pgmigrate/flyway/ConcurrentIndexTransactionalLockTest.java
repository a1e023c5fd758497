package io.pgmigrate.flyway;

import static io.pgmigrate.flyway.Guarding.createOrders;
import static io.pgmigrate.flyway.Guarding.flyway;
import static io.pgmigrate.flyway.Guarding.settings;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowableOfType;

import java.time.Duration;

import ch.qos.logback.classic.Level;
import io.pgmigrate.core.BlockerOutcome;
import io.pgmigrate.core.StandardBlockingAction;
import io.pgmigrate.testsupport.PostgresTest;
import io.pgmigrate.testsupport.TestDatabase;
import org.junit.jupiter.api.Test;

/**
 * Flyway's known hang: with its default transactional advisory lock, Flyway's main connection stays idle in
 * a transaction while the migration connection builds an index concurrently, and the build waits for it.
 */
@PostgresTest
class ConcurrentIndexTransactionalLockTest {

    @Test
    void aConcurrentIndexBuildWaitingForFlywaysOwnConnectionFailsOnTheLockTimeoutAndSaysWhatToSet(TestDatabase db)
            throws Exception {
        createOrders(db);
        RecordingGuardListener events = new RecordingGuardListener();
        FlywayGuard guard = new FlywayGuard(settings().withLockTimeout(Duration.ofSeconds(2)).withLockRetries(2),
                StandardBlockingAction.TERMINATE, events);

        NonTransactionalLockTimeoutException failure;
        try (LogCapture log = new LogCapture()) {
            failure = catchThrowableOfType(NonTransactionalLockTimeoutException.class,
                    () -> guard.migrate(flyway(db.dataSource(), "concurrently_tl").load()));
            assertThat(log.at(Level.WARN, "pgmigrate: migration 1 (index orders) waits for another connection of "
                    + "the same Flyway run")).singleElement()
                .satisfies((e) -> assertThat(e.getFormattedMessage())
                    .contains("flyway.postgresql.transactional.lock=false"));
        }

        assertThat(failure).isNotNull();
        assertThat(failure.getMessage()).contains("It waited for another connection of the same Flyway run",
                "flyway.postgresql.transactional.lock=false", "application=pgmigrate-migration");
        assertThat(failure.blockers()).isNotEmpty()
            .allSatisfy((b) -> assertThat(b.applicationName()).isEqualTo(FlywayGuard.APPLICATION_NAME));
        assertThat(events.lockTimeouts).singleElement().satisfies((e) -> assertThat(e.retried()).isFalse());
        assertThat(events.reports).isNotEmpty()
            .allSatisfy((r) -> assertThat(r.outcome()).isEqualTo(BlockerOutcome.PROTECTED));
    }
}
