package io.pgmigrate.core;

import static io.pgmigrate.core.Watching.awaitPolls;
import static io.pgmigrate.core.Watching.createOrders;
import static io.pgmigrate.core.Watching.finish;
import static io.pgmigrate.core.Watching.reader;
import static io.pgmigrate.core.Watching.watcher;
import static org.assertj.core.api.Assertions.assertThat;

import java.util.concurrent.CompletableFuture;

import io.pgmigrate.core.internal.Watcher;
import io.pgmigrate.testsupport.PostgresTest;
import io.pgmigrate.testsupport.TestDatabase;
import io.pgmigrate.testsupport.TestSession;
import org.junit.jupiter.api.Test;

/**
 * A poll that finds nothing costs one small statement: the watcher asks PostgreSQL which watched backends have a
 * blocker at all, and runs its full blocker query (pg_locks, the blockers' activity) only when one has.
 */
@PostgresTest
class IdlePollTest {

    @Test
    void whileNothingBlocksTheWatchedBackendTheWatcherRunsOnlyTheCheckForABlocker(TestDatabase db) throws Exception {
        TestSession migration = db.session("migration");
        try (Watcher watcher = watcher(db, WatchSettings.defaults(), StandardBlockingAction.TERMINATE,
                new RecordingListener())) {
            watcher.watch(migration.pid(), "migration 2 (add note)");
            awaitPolls(watcher, 3);
            String lastStatement = (String) db.queryValue("SELECT query FROM pg_stat_activity "
                    + "WHERE application_name = ? AND datname = current_database()", Watcher.APPLICATION_NAME);

            assertThat(lastStatement).contains("pg_blocking_pids(w.pid)").doesNotContain("pg_locks")
                .doesNotContain("pg_stat_get_activity");
        }
    }

    @Test
    void aBlockerThatAppearsBetweenPollsIsStillDescribedAndEnded(TestDatabase db) throws Exception {
        createOrders(db);
        TestSession migration = db.session("migration");
        RecordingListener events = new RecordingListener();
        try (Watcher watcher = watcher(db, WatchSettings.defaults(), StandardBlockingAction.TERMINATE, events)) {
            watcher.watch(migration.pid(), "migration 2 (add note)");
            awaitPolls(watcher, 3);
            TestSession report = reader(db, "report");
            CompletableFuture<Void> alter = migration.executeAsync("ALTER TABLE orders ADD COLUMN note text");
            finish(alter);

            assertThat(report.isAlive()).isFalse();
            assertThat(events.has(report.pid(), BlockerOutcome.TERMINATED)).isTrue();
        }
    }
}
