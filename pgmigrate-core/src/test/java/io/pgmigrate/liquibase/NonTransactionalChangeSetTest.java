package io.pgmigrate.liquibase;

import static io.pgmigrate.liquibase.Liquibases.createOrders;
import static io.pgmigrate.liquibase.Liquibases.liquibase;
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

/** A runInTransaction="false" changeset is never retried, and its failure names what it left. */
@PostgresTest
class NonTransactionalChangeSetTest {

    @Test
    void neverRetriesAChangeSetOutsideATransactionAndNamesTheInvalidIndexItLeft(TestDatabase db) throws Exception {
        createOrders(db);
        // a writer: CREATE INDEX CONCURRENTLY creates the index, then waits for this transaction to end
        TestSession writer = db.session("report").begin().execute("UPDATE orders SET total = total WHERE id = 1");
        RecordingGuardListener events = new RecordingGuardListener();
        LiquibaseGuard guard = new LiquibaseGuard(settings().withLockTimeout(Duration.ofSeconds(1))
            .withLockRetries(3)
            .withLockRetryDelay(Duration.ofMillis(50)), StandardBlockingAction.TERMINATE, events);

        ChangeSetLockTimeoutException failure = catchThrowableOfType(ChangeSetLockTimeoutException.class,
                () -> guard.update(db.dataSource(), (connection) -> liquibase("db/changelog/concurrently.yaml",
                        connection)));

        assertThat(failure).isNotNull();
        assertThat(failure.changeSet()).isEqualTo("1-index-orders::orders-team (db/changelog/concurrently.yaml)");
        assertThat(failure.transactional()).isFalse();
        assertThat(failure.attempts()).isEqualTo(1);
        assertThat(failure.invalidIndexes()).containsExactly("public.orders_total_idx");
        assertThat(failure.getMessage()).contains("is not retried", "runInTransaction=\"false\"",
                "DROP INDEX CONCURRENTLY IF EXISTS public.orders_total_idx");
        System.out.println("pgmigrate measured: non-transactional changeset message:\n" + failure.getMessage());
        assertThat(events.started).hasSize(1);
        assertThat(events.lockTimeouts).singleElement().satisfies((event) -> assertThat(event.retried()).isFalse());
        // a snapshot wait: the writer is reported, not ended, by default
        assertThat(writer.isAlive()).isTrue();
    }
}
