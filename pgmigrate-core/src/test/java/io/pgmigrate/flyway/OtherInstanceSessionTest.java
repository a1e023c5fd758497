package io.pgmigrate.flyway;

import static io.pgmigrate.flyway.Guarding.createOrders;
import static io.pgmigrate.flyway.Guarding.flyway;
import static io.pgmigrate.flyway.Guarding.reader;
import static io.pgmigrate.flyway.Guarding.settings;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowableOfType;

import java.time.Duration;

import io.pgmigrate.core.BlockerOutcome;
import io.pgmigrate.core.BlockerReport;
import io.pgmigrate.core.StandardBlockingAction;
import io.pgmigrate.testsupport.PostgresTest;
import io.pgmigrate.testsupport.TestDatabase;
import io.pgmigrate.testsupport.TestSession;
import org.junit.jupiter.api.Test;

@PostgresTest
class OtherInstanceSessionTest {

    @Test
    void aSessionOfAnotherMigratingInstanceIsNeverTerminated(TestDatabase db) throws Exception {
        createOrders(db);
        TestSession otherInstance = reader(db, FlywayGuard.APPLICATION_NAME);
        RecordingGuardListener events = new RecordingGuardListener();
        FlywayGuard guard = new FlywayGuard(settings().withLockTimeout(Duration.ofSeconds(1)),
                StandardBlockingAction.TERMINATE, events);

        LockTimeoutExhaustedException failure = catchThrowableOfType(LockTimeoutExhaustedException.class,
                () -> guard.migrate(flyway(db.dataSource(), "blocked").table("history_other").load()));

        assertThat(failure).isNotNull();
        assertThat(failure.attempts()).isEqualTo(1);
        assertThat(otherInstance.isAlive()).isTrue();
        assertThat(events.reports).filteredOn((r) -> r.blocker().pid() == otherInstance.pid())
            .extracting(BlockerReport::outcome)
            .containsExactly(BlockerOutcome.PROTECTED);
        assertThat(events.reports(BlockerOutcome.TERMINATED)).isEmpty();
    }
}
