package io.pgmigrate.flyway;

import io.pgmigrate.core.LockTimeoutEvent;
import static io.pgmigrate.flyway.Guarding.createOrders;
import static io.pgmigrate.flyway.Guarding.flyway;
import static io.pgmigrate.flyway.Guarding.hasColumn;
import static io.pgmigrate.flyway.Guarding.reader;
import static io.pgmigrate.flyway.Guarding.settings;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowableOfType;

import java.time.Duration;

import io.pgmigrate.core.BlockerOutcome;
import io.pgmigrate.core.StandardBlockingAction;
import io.pgmigrate.testsupport.PostgresTest;
import io.pgmigrate.testsupport.TestDatabase;
import io.pgmigrate.testsupport.TestSession;
import org.junit.jupiter.api.Test;

@PostgresTest
class LockTimeoutExhaustedTest {

    @Test
    void failsAfterTheLastRetryNamingTheMigrationTheAttemptsAndTheBlockers(TestDatabase db) throws Exception {
        createOrders(db);
        TestSession blocker = reader(db, "report");
        RecordingGuardListener events = new RecordingGuardListener();
        FlywayGuard guard = new FlywayGuard(settings().withLockTimeout(Duration.ofSeconds(1)).withLockRetries(2)
            .withLockRetryDelay(Duration.ofMillis(50)), StandardBlockingAction.SHOW, events);

        LockTimeoutExhaustedException failure = catchThrowableOfType(LockTimeoutExhaustedException.class,
                () -> guard.migrate(flyway(db.dataSource(), "blocked").load()));

        assertThat(failure).isNotNull();
        assertThat(failure.migration()).isEqualTo("2 (add email)");
        assertThat(failure.attempts()).isEqualTo(3);
        assertThat(failure.lockTimeout()).isEqualTo(Duration.ofSeconds(1));
        assertThat(failure.blockers()).singleElement().satisfies((b) -> assertThat(b.pid()).isEqualTo(blocker.pid()));
        assertThat(failure.getMessage()).contains("migration 2 (add email)", "lock_timeout=1s", "attempts=3",
                "pid=" + blocker.pid(), "user=" + db.user(), "application=report", "state=\"idle in transaction\"",
                "age=", "query=\"SELECT count(*) FROM orders\"");
        System.out.println("pgmigrate measured: exhausted message:\n" + failure.getMessage());

        assertThat(events.lockTimeouts).extracting(LockTimeoutEvent::attempt).containsExactly(1, 2, 3);
        assertThat(events.lockTimeouts).extracting(LockTimeoutEvent::retried).containsExactly(true, true, false);
        assertThat(events.lockTimeouts).allSatisfy((event) -> {
            assertThat(event.migration()).isEqualTo("2 (add email)");
            assertThat(event.lockTimeout()).isEqualTo(Duration.ofSeconds(1));
        });
        assertThat(events.started).extracting(RecordingGuardListener.Started::migration)
            .containsExactly("1 (create customers)", "2 (add email)", "2 (add email)", "2 (add email)");
        assertThat(events.reports(BlockerOutcome.SHOWN)).isNotEmpty();
        assertThat(events.runs).singleElement().satisfies((run) -> {
            assertThat(run.success()).isFalse();
            assertThat(run.migrationsApplied()).isEqualTo(1);
            assertThat(run.failure()).contains("2 (add email)");
        });

        assertThat(blocker.isAlive()).isTrue();
        assertThat(hasColumn(db, "orders", "email")).isFalse();
        assertThat(db.queryValue("SELECT count(*) FROM flyway_schema_history WHERE version = '2'")).isEqualTo(0L);
        assertThat(db.queryValue("SELECT success FROM flyway_schema_history WHERE version = '1'")).isEqualTo(true);
        assertThat(Guarding.watcherThreadAlive()).isFalse();
    }
}
