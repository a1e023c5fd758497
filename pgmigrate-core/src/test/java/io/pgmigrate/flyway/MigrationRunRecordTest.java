package io.pgmigrate.flyway;

import static io.pgmigrate.flyway.Guarding.createOrders;
import static io.pgmigrate.flyway.Guarding.flyway;
import static io.pgmigrate.flyway.Guarding.reader;
import static io.pgmigrate.flyway.Guarding.settings;
import static org.assertj.core.api.Assertions.assertThat;

import java.time.Duration;

import io.pgmigrate.core.StandardBlockingAction;
import io.pgmigrate.testsupport.PostgresTest;
import io.pgmigrate.testsupport.TestDatabase;
import io.pgmigrate.testsupport.TestSession;
import org.junit.jupiter.api.Test;

/**
 * A run ends with one complete record: the migrations it started, the lock timeouts and what the watcher did, as the
 * listeners saw them during the run, so the endpoint's history needs no second channel of events.
 */
@PostgresTest
class MigrationRunRecordTest {

    @Test
    void theRecordOfARetriedRunHoldsWhatTheListenersSawDuringIt(TestDatabase db) throws Exception {
        createOrders(db);
        TestSession blocker = reader(db, "report");
        RecordingGuardListener events = RecordingGuardListener.endingAtLockTimeout(blocker);
        new FlywayGuard(settings().withLockTimeout(Duration.ofMillis(1500)).withLockRetries(2)
            .withLockRetryDelay(Duration.ofMillis(100)), StandardBlockingAction.SHOW, events)
            .migrate(flyway(db.dataSource(), "blocked").load());

        assertThat(events.runs).singleElement().satisfies((run) -> {
            assertThat(run.success()).isTrue();
            assertThat(run.migrations()).containsExactly("1 (create customers)", "2 (add email)");
            assertThat(run.lockTimeouts()).isEqualTo(events.lockTimeouts).singleElement()
                .satisfies((event) -> assertThat(event.retried()).isTrue());
            assertThat(run.blockers()).isEqualTo(events.reports).isNotEmpty();
            assertThat(run.selfBlocked()).isEmpty();
            assertThat(run.waitCancellations()).isEmpty();
        });
    }
}
