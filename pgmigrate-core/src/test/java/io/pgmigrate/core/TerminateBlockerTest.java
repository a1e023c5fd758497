package io.pgmigrate.core;

import java.util.concurrent.CompletableFuture;

import io.pgmigrate.core.internal.Watcher;
import io.pgmigrate.testsupport.PostgresTest;
import io.pgmigrate.testsupport.TestDatabase;
import io.pgmigrate.testsupport.TestSession;
import org.junit.jupiter.api.Test;

import static io.pgmigrate.core.Watching.createOrders;
import static io.pgmigrate.core.Watching.eventually;
import static io.pgmigrate.core.Watching.finish;
import static io.pgmigrate.core.Watching.reader;
import static io.pgmigrate.core.Watching.startBlocked;
import static io.pgmigrate.core.Watching.watcher;
import static org.assertj.core.api.Assertions.assertThat;

@PostgresTest
class TerminateBlockerTest {

    @Test
    void terminatesTheIdleBlockerSoTheMigrationAndTheQueriesQueuedBehindItComplete(TestDatabase db)
            throws Exception {
        createOrders(db);
        TestSession report = reader(db, "report");
        TestSession migration = db.session("migration");
        TestSession application = db.session("application");

        CompletableFuture<Void> alter = startBlocked(migration, "ALTER TABLE orders ADD COLUMN note text");
        CompletableFuture<Void> query = startBlocked(application, "SELECT count(*) FROM orders");
        assertThat(alter).isNotDone();
        assertThat(query).as("the application's query queues behind the waiting ALTER").isNotDone();

        RecordingListener events = new RecordingListener();
        try (Watcher watcher = watcher(db, WatchSettings.defaults(), StandardBlockingAction.TERMINATE, events)) {
            watcher.watch(migration.pid(), "migration 2 (add note)");
            finish(alter);
            finish(query);
        }

        assertThat(report.isAlive()).isFalse();
        assertThat(migration.isAlive()).isTrue();
        assertThat(application.isAlive()).isTrue();
        assertThat(db.queryValue("SELECT count(*) FROM information_schema.columns "
                + "WHERE table_name = 'orders' AND column_name = 'note'")).isEqualTo(1L);
        assertThat(events.reports).singleElement().satisfies((terminated) -> {
            assertThat(terminated.outcome()).isEqualTo(BlockerOutcome.TERMINATED);
            assertThat(terminated.blockedWork()).isEqualTo("migration 2 (add note)");
            Blocker blocker = terminated.blocker();
            assertThat(blocker.pid()).isEqualTo(report.pid());
            assertThat(blocker.blockedPid()).isEqualTo(migration.pid());
            assertThat(blocker.applicationName()).isEqualTo("report");
            assertThat(blocker.user()).isEqualTo(db.user());
            assertThat(blocker.database()).isEqualTo(db.name());
            assertThat(blocker.state()).isEqualTo("idle in transaction");
            assertThat(blocker.query()).isEqualTo("SELECT count(*) FROM orders");
            assertThat(blocker.lockModes()).isEqualTo("AccessShareLock");
            assertThat(blocker.lockGranted()).isTrue();
            assertThat(blocker.lockedObject()).isEqualTo("public.orders");
            assertThat(blocker.transactionStart()).isNotNull();
            assertThat(blocker.age()).isPositive();
            assertThat(blocker.blockedFor()).isNotNull();
        });
    }

    @Test
    void cutsLongQueryTextsToTheConfiguredLength(TestDatabase db) throws Exception {
        createOrders(db);
        String longQuery = "SELECT count(*) FROM orders WHERE total > 0 /* " + "x".repeat(5000) + " */";
        TestSession report = db.session("report").begin().execute(longQuery);
        TestSession migration = db.session("migration");
        CompletableFuture<Void> alter = startBlocked(migration, "ALTER TABLE orders ADD COLUMN note text");

        RecordingListener events = new RecordingListener();
        try (Watcher watcher = watcher(db, WatchSettings.defaults().withMaxQueryLength(40),
                StandardBlockingAction.TERMINATE, events)) {
            watcher.watch(migration.pid(), "migration 2");
            finish(alter);
        }

        eventually().until(() -> !report.isAlive());
        assertThat(events.reports(BlockerOutcome.TERMINATED)).singleElement()
            .satisfies((r) -> assertThat(r.blocker().query()).isEqualTo(longQuery.substring(0, 40)));
    }
}
