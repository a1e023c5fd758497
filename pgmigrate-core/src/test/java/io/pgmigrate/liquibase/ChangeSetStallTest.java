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

import java.sql.SQLException;
import java.time.Duration;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;

import io.pgmigrate.core.BlockerOutcome;
import io.pgmigrate.core.GuardSettings;
import io.pgmigrate.core.StandardBlockingAction;
import io.pgmigrate.core.WaitCancellation;
import io.pgmigrate.flyway.RecordingGuardListener;
import io.pgmigrate.testsupport.PostgresTest;
import io.pgmigrate.testsupport.TestDatabase;
import io.pgmigrate.testsupport.TestSession;
import org.junit.jupiter.api.Test;

/**
 * The bounded stall with Liquibase: a blocker the guard keeps (an excluded application name) must not let the
 * waiting changeset queue the application without bound; with no retry left, the update fails and says why.
 */
@PostgresTest
class ChangeSetStallTest {

    private static final Duration BOUND = Duration.ofSeconds(1);

    @Test
    void theWaitIsCancelledSoTheApplicationProceedsAndTheUpdateFailsWithTheBlockerKept(TestDatabase db)
            throws Exception {
        createOrders(db);
        TestSession blocker = reader(db);
        RecordingGuardListener events = new RecordingGuardListener();
        GuardSettings settings = settings();
        LiquibaseGuard guard = new LiquibaseGuard(settings.withWatch(settings.watch()
            .withExcludedApplicationNames(Set.of("report"))
            .withMaxApplicationStall(BOUND)), StandardBlockingAction.TERMINATE, events);

        try (TestSession app = db.session("app")) {
            CompletableFuture<Void> update = new CompletableFuture<>();
            Thread updating = new Thread(() -> {
                try {
                    guard.update(db.dataSource(), (connection) -> liquibase(ORDERS, connection));
                    update.complete(null);
                }
                catch (Throwable ex) {
                    update.completeExceptionally(ex);
                }
            }, "test-liquibase-update");
            updating.setDaemon(true);
            updating.start();
            await().atMost(DEADLINE).until(() -> changeSetWaits(db));
            CompletableFuture<Void> query = app.executeAsync("SELECT count(*) FROM orders");

            // the application's query proceeds while the blocker is still there
            query.get(DEADLINE.toSeconds(), TimeUnit.SECONDS);
            Throwable failure = update.handle((result, error) -> error).get(DEADLINE.toSeconds(), TimeUnit.SECONDS);

            assertThat(failure).isInstanceOf(ChangeSetStallException.class);
            ChangeSetStallException stall = (ChangeSetStallException) failure;
            assertThat(stall.changeSet()).isEqualTo(ADD_NOTE);
            assertThat(stall.transactional()).isTrue();
            assertThat(stall.attempts()).isEqualTo(1);
            assertThat(stall.cancellation().reason()).isEqualTo(WaitCancellation.Reason.APPLICATION_STALL);
            assertThat(stall.cancellation().keptBlockers()).singleElement()
                .satisfies((kept) -> assertThat(kept.outcome()).isEqualTo(BlockerOutcome.EXCLUDED));
            assertThat(stall.getMessage()).contains("changeset " + ADD_NOTE, "max-application-stall",
                    "PostgreSQL rolled back each attempt");
            assertThat(events.waitCancellations).singleElement()
                .satisfies((event) -> assertThat(event.work()).isEqualTo("changeset " + ADD_NOTE));
        }
        assertThat(blocker.isAlive()).isTrue();
        assertThat(hasNote(db)).isFalse();
    }

    private static boolean changeSetWaits(TestDatabase db) throws SQLException {
        return Boolean.TRUE.equals(db.queryValue("SELECT EXISTS (SELECT 1 FROM pg_stat_activity WHERE application_name "
                + "= ? AND wait_event_type = 'Lock')", LiquibaseGuard.APPLICATION_NAME));
    }
}
