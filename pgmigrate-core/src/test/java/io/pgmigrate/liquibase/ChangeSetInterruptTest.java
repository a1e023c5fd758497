package io.pgmigrate.liquibase;

import static io.pgmigrate.liquibase.Liquibases.ADD_NOTE;
import static io.pgmigrate.liquibase.Liquibases.DEADLINE;
import static io.pgmigrate.liquibase.Liquibases.ORDERS;
import static io.pgmigrate.liquibase.Liquibases.createOrders;
import static io.pgmigrate.liquibase.Liquibases.hasNote;
import static io.pgmigrate.liquibase.Liquibases.liquibase;
import static io.pgmigrate.liquibase.Liquibases.reader;
import static io.pgmigrate.liquibase.Liquibases.settings;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import java.time.Duration;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;

import io.pgmigrate.core.GuardSettings;
import io.pgmigrate.core.StandardBlockingAction;
import io.pgmigrate.core.WaitCancellation;
import io.pgmigrate.flyway.RecordingGuardListener;
import io.pgmigrate.testsupport.PostgresTest;
import io.pgmigrate.testsupport.TestDatabase;
import io.pgmigrate.testsupport.TestSession;
import liquibase.exception.LiquibaseException;
import org.junit.jupiter.api.Test;

/**
 * A changeset whose thread is interrupted while it waits for a lock: the watcher cancels the wait at once, the
 * update fails without a retry, says so, and keeps the thread's interrupt; PostgreSQL rolled the changeset back.
 */
@PostgresTest
class ChangeSetInterruptTest {

    @Test
    void anInterruptEndsAWaitingChangeSetPromptlyWithNothingApplied(TestDatabase db) throws Exception {
        createOrders(db);
        TestSession blocker = reader(db);
        RecordingGuardListener events = new RecordingGuardListener();
        GuardSettings settings = settings();
        // the blocker is kept and there is no bound and no lock timeout: only the interrupt can end the wait
        LiquibaseGuard guard = new LiquibaseGuard(settings.withWatch(settings.watch()
            .withExcludedApplicationNames(Set.of("report"))
            .withMaxApplicationStall(Duration.ZERO)), StandardBlockingAction.TERMINATE, events);
        CompletableFuture<Throwable> thrown = new CompletableFuture<>();
        AtomicBoolean flagKept = new AtomicBoolean();
        Thread updating = new Thread(() -> {
            try {
                guard.update(db.dataSource(), (connection) -> liquibase(ORDERS, connection));
                thrown.complete(null);
            }
            catch (Throwable ex) {
                flagKept.set(Thread.currentThread().isInterrupted());
                thrown.complete(ex);
            }
        }, "test-liquibase-update");
        updating.setDaemon(true);
        updating.start();
        await().atMost(DEADLINE).until(() -> Boolean.TRUE.equals(db.queryValue("SELECT EXISTS (SELECT 1 FROM "
                + "pg_stat_activity WHERE application_name = ? AND wait_event_type = 'Lock')",
                LiquibaseGuard.APPLICATION_NAME)));

        updating.interrupt();

        Throwable failure = thrown.get(DEADLINE.toSeconds(), TimeUnit.SECONDS);
        assertThat(failure).isInstanceOf(LiquibaseException.class)
            .hasMessageContaining("changeset " + ADD_NOTE + " was interrupted while it waited for a lock",
                    "object=", "PostgreSQL rolled it back");
        assertThat(flagKept).isTrue();
        assertThat(events.waitCancellations).singleElement()
            .satisfies((event) -> assertThat(event.reason()).isEqualTo(WaitCancellation.Reason.INTERRUPT));
        assertThat(blocker.isAlive()).isTrue();
        assertThat(hasNote(db)).isFalse();
        assertThat(db.queryValue("SELECT count(*) FROM pg_stat_activity WHERE application_name = ?",
                LiquibaseGuard.APPLICATION_NAME)).isEqualTo(0L);
    }
}
