package io.pgmigrate.liquibase;

import static io.pgmigrate.liquibase.Liquibases.ADD_NOTE;
import static io.pgmigrate.liquibase.Liquibases.ORDERS;
import static io.pgmigrate.liquibase.Liquibases.createOrders;
import static io.pgmigrate.liquibase.Liquibases.hasNote;
import static io.pgmigrate.liquibase.Liquibases.liquibase;
import static io.pgmigrate.liquibase.Liquibases.reader;
import static io.pgmigrate.liquibase.Liquibases.settings;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowableOfType;

import java.time.Duration;

import io.pgmigrate.core.StandardBlockingAction;
import io.pgmigrate.flyway.RecordingGuardListener;
import io.pgmigrate.testsupport.PostgresTest;
import io.pgmigrate.testsupport.TestDatabase;
import io.pgmigrate.testsupport.TestSession;
import liquibase.Liquibase;
import org.junit.jupiter.api.Test;

/** A transactional changeset blocked on every attempt fails with the blockers it saw. */
@PostgresTest
class ChangeSetRetriesExhaustedTest {

    @Test
    void failsWithTheBlockersOnceTheRetriesOfATransactionalChangeSetAreUsedUp(TestDatabase db) throws Exception {
        createOrders(db);
        TestSession blocker = reader(db);
        LiquibaseGuard guard = new LiquibaseGuard(settings().withLockTimeout(Duration.ofSeconds(1))
            .withLockRetries(1)
            .withLockRetryDelay(Duration.ofMillis(50)), StandardBlockingAction.SHOW, new RecordingGuardListener());

        ChangeSetLockTimeoutException failure = catchThrowableOfType(ChangeSetLockTimeoutException.class,
                () -> guard.update(db.dataSource(), (connection) -> liquibase(ORDERS, connection)));

        assertThat(failure).isNotNull();
        assertThat(failure.changeSet()).isEqualTo(ADD_NOTE);
        assertThat(failure.transactional()).isTrue();
        assertThat(failure.attempts()).isEqualTo(2);
        assertThat(failure.blockers()).extracting((b) -> b.pid()).containsExactly(blocker.pid());
        assertThat(failure.getMessage()).contains("changeset " + ADD_NOTE, "lock_timeout=1s", "attempts=2",
                "pid=" + blocker.pid(), "nothing of it is left");
        assertThat(hasNote(db)).isFalse();
        assertThat(db.queryValue("SELECT count(*) FROM databasechangelog WHERE id = '2-add-note'")).isEqualTo(0L);
    }
}
