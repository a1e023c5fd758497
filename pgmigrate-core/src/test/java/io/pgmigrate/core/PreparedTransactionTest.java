package io.pgmigrate.core;

import java.util.concurrent.CompletableFuture;

import io.pgmigrate.core.internal.Watcher;
import io.pgmigrate.testsupport.PostgresTest;
import io.pgmigrate.testsupport.TestDatabase;
import io.pgmigrate.testsupport.TestSession;
import org.junit.jupiter.api.Test;

import static io.pgmigrate.core.Watching.awaitPolls;
import static io.pgmigrate.core.Watching.createOrders;
import static io.pgmigrate.core.Watching.eventually;
import static io.pgmigrate.core.Watching.finish;
import static io.pgmigrate.core.Watching.startBlocked;
import static io.pgmigrate.core.Watching.watcher;
import static org.assertj.core.api.Assertions.assertThat;

@PostgresTest
class PreparedTransactionTest {

    @Test
    void aBlockingPreparedTransactionIsReportedWithItsGidAndNeverCountedAsTerminated(TestDatabase db)
            throws Exception {
        createOrders(db);
        TestSession coordinator = db.session("xa-coordinator").begin()
            .execute("SELECT count(*) FROM orders", "PREPARE TRANSACTION 'report-42'");
        coordinator.connection().setAutoCommit(true);
        TestSession migration = db.session("migration");
        CompletableFuture<Void> alter = startBlocked(migration, "ALTER TABLE orders ADD COLUMN note text");

        RecordingListener events = new RecordingListener();
        try (Watcher watcher = watcher(db, WatchSettings.defaults(), StandardBlockingAction.TERMINATE, events)) {
            watcher.watch(migration.pid(), "migration 2");
            eventually().until(() -> !events.reports.isEmpty());
            awaitPolls(watcher, 3);

            assertThat(events.reports).singleElement().satisfies((r) -> {
                assertThat(r.outcome()).isEqualTo(BlockerOutcome.UNENDABLE);
                assertThat(r.blocker().pid()).isZero();
                assertThat(r.blocker().preparedTransaction()).isEqualTo("report-42");
                assertThat(r.blocker().user()).isEqualTo(db.user());
                assertThat(r.blocker().lockModes()).isEqualTo("AccessShareLock");
                assertThat(r.detail()).contains("gid=report-42").contains("ROLLBACK PREPARED");
            });
            assertThat(events.reports(BlockerOutcome.TERMINATED)).isEmpty();
            assertThat(coordinator.isAlive()).isTrue();
            assertThat(alter).isNotDone();

            db.execute("ROLLBACK PREPARED 'report-42'");
            finish(alter);
        }
    }
}
