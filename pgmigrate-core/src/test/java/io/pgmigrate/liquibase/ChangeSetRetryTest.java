package io.pgmigrate.liquibase;

import static io.pgmigrate.liquibase.Liquibases.ADD_NOTE;
import static io.pgmigrate.liquibase.Liquibases.ORDERS;
import static io.pgmigrate.liquibase.Liquibases.createOrders;
import static io.pgmigrate.liquibase.Liquibases.hasNote;
import static io.pgmigrate.liquibase.Liquibases.liquibase;
import static io.pgmigrate.liquibase.Liquibases.reader;
import static io.pgmigrate.liquibase.Liquibases.settings;
import static org.assertj.core.api.Assertions.assertThat;

import java.time.Duration;

import ch.qos.logback.classic.Level;
import io.pgmigrate.core.StandardBlockingAction;
import io.pgmigrate.flyway.LogCapture;
import io.pgmigrate.flyway.RecordingGuardListener;
import io.pgmigrate.testsupport.PostgresTest;
import io.pgmigrate.testsupport.TestDatabase;
import io.pgmigrate.testsupport.TestSession;
import liquibase.Liquibase;
import org.junit.jupiter.api.Test;

/** A transactional changeset that hit the lock timeout is rolled back by PostgreSQL and tried again. */
@PostgresTest
class ChangeSetRetryTest {

    @Test
    void retriesATransactionalChangeSetThatHitTheLockTimeout(TestDatabase db) throws Exception {
        createOrders(db);
        TestSession blocker = reader(db);
        RecordingGuardListener events = RecordingGuardListener.endingAtLockTimeout(blocker);
        LiquibaseGuard guard = new LiquibaseGuard(settings().withLockTimeout(Duration.ofMillis(1500))
            .withLockRetries(2)
            .withLockRetryDelay(Duration.ofMillis(100)), StandardBlockingAction.SHOW, events);

        try (LogCapture log = new LogCapture()) {
            guard.update(db.dataSource(), (connection) -> liquibase(ORDERS, connection));
            assertThat(log.at(Level.WARN, "pgmigrate: changeset hit the lock timeout and was rolled back; retrying"))
                .singleElement()
                .satisfies((line) -> assertThat(LogCapture.keyValues(line)).containsEntry("changeset", ADD_NOTE)
                    .containsEntry("attempt", 1));
        }

        assertThat(hasNote(db)).isTrue();
        assertThat(blocker.isAlive()).isTrue();
        assertThat(events.lockTimeouts).singleElement().satisfies((event) -> {
            assertThat(event.migration()).isEqualTo(ADD_NOTE);
            assertThat(event.retried()).isTrue();
            assertThat(event.blockersSeen()).extracting((b) -> b.pid()).containsExactly(blocker.pid());
        });
        assertThat(db.queryValue("SELECT count(*) FROM databasechangelog WHERE id = '2-add-note'")).isEqualTo(1L);
    }
}
