package io.pgmigrate.core;

import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
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
import static io.pgmigrate.core.Watching.watcher;
import static org.assertj.core.api.Assertions.assertThat;

@PostgresTest
class ManyBlockersTest {

    private static final int BLOCKERS = 60;

    @Test
    void allBlockersAreTerminatedInTheFirstPollThatSeesThem(TestDatabase db) throws Exception {
        createOrders(db);
        List<TestSession> readers = new ArrayList<>();
        for (int i = 0; i < BLOCKERS; i++) {
            readers.add(reader(db, "report-" + i));
        }
        TestSession migration = db.session("migration");
        CompletableFuture<Void> alter = startBlocked(migration, "ALTER TABLE orders ADD COLUMN note text");

        RecordingListener events = new RecordingListener();
        try (Watcher watcher = watcher(db, WatchSettings.defaults(), StandardBlockingAction.TERMINATE, events)) {
            watcher.watch(migration.pid(), "migration 2");
            finish(alter);
        }

        assertThat(events.sequence.get(0)).isEqualTo("detected:" + BLOCKERS);
        List<String> firstPoll = events.sequence.subList(1, BLOCKERS + 1);
        assertThat(firstPoll).allMatch((event) -> event.endsWith(":TERMINATED"));
        assertThat(events.reports(BlockerOutcome.TERMINATED)).extracting((r) -> r.blocker().pid())
            .containsExactlyInAnyOrderElementsOf(readers.stream().map(TestSession::pid).toList());
        for (TestSession reader : readers) {
            assertThat(reader.isAlive()).isFalse();
        }
        assertThat(Collections.frequency(events.sequence, "failed")).isZero();
    }
}
