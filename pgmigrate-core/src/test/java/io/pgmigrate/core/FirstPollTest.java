package io.pgmigrate.core;

import java.time.Duration;
import java.util.concurrent.CompletableFuture;

import io.pgmigrate.core.internal.Watcher;
import io.pgmigrate.testsupport.PostgresTest;
import io.pgmigrate.testsupport.TestDatabase;
import io.pgmigrate.testsupport.TestSession;
import org.junit.jupiter.api.Test;

import static io.pgmigrate.core.Watching.createOrders;
import static io.pgmigrate.core.Watching.finish;
import static io.pgmigrate.core.Watching.reader;
import static io.pgmigrate.core.Watching.startBlocked;
import static org.assertj.core.api.Assertions.assertThat;

/**
 * The first look at a watched backend does not wait for the poll interval: with an interval far longer than the
 * tests' deadline, a blocker is still ended, whether the migration waits already when it is watched or starts to
 * wait right after.
 */
@PostgresTest
class FirstPollTest {

    /** Longer than {@link Watching#DEADLINE}: a watcher that waited for it would fail these tests. */
    private static final Duration LONG_INTERVAL = Duration.ofMinutes(10);

    @Test
    void aMigrationAlreadyWaitingWhenItIsWatchedIsFreedWithoutWaitingForThePollInterval(TestDatabase db)
            throws Exception {
        createOrders(db);
        TestSession report = reader(db, "report");
        TestSession migration = db.session("migration");
        CompletableFuture<Void> alter = startBlocked(migration, "ALTER TABLE orders ADD COLUMN note text");
        RecordingListener events = new RecordingListener();
        try (Watcher watcher = new Watcher(db.dataSource(), WatchSettings.defaults().withPollInterval(LONG_INTERVAL),
                StandardBlockingAction.TERMINATE, events).start()) {
            watcher.watch(migration.pid(), "migration 2 (add note)");
            finish(alter);
        }
        assertThat(report.isAlive()).isFalse();
        assertThat(events.has(report.pid(), BlockerOutcome.TERMINATED)).isTrue();
    }

    @Test
    void aMigrationThatStartsToWaitRightAfterItIsWatchedIsFreedWithoutWaitingForThePollInterval(TestDatabase db)
            throws Exception {
        createOrders(db);
        TestSession report = reader(db, "report");
        TestSession migration = db.session("migration");
        RecordingListener events = new RecordingListener();
        try (Watcher watcher = new Watcher(db.dataSource(), WatchSettings.defaults().withPollInterval(LONG_INTERVAL),
                StandardBlockingAction.TERMINATE, events).start()) {
            watcher.watch(migration.pid(), "migration 2 (add note)");
            CompletableFuture<Void> alter = migration.executeAsync("ALTER TABLE orders ADD COLUMN note text");
            finish(alter);
        }
        assertThat(report.isAlive()).isFalse();
        assertThat(events.has(report.pid(), BlockerOutcome.TERMINATED)).isTrue();
    }
}
