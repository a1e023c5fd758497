package io.pgmigrate.core;

import java.math.BigDecimal;
import java.time.Duration;
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
class MinDurationTest {

    private static final Duration MIN_DURATION = Duration.ofSeconds(3);

    @Test
    void leavesYoungBlockersAloneUntilTheyHaveHeldTheirLocksForTheMinimumDuration(TestDatabase db)
            throws Exception {
        createOrders(db);
        TestSession old = reader(db, "old-report");
        eventually().until(() -> transactionAgeSeconds(db, old) >= MIN_DURATION.toSeconds());
        TestSession young = reader(db, "young-report");
        TestSession migration = db.session("migration");
        CompletableFuture<Void> alter = startBlocked(migration, "ALTER TABLE orders ADD COLUMN note text");

        RecordingListener events = new RecordingListener();
        try (Watcher watcher = watcher(db, WatchSettings.defaults().withMinDuration(MIN_DURATION),
                StandardBlockingAction.TERMINATE, events)) {
            watcher.watch(migration.pid(), "migration 2");
            eventually().until(() -> events.has(old.pid(), BlockerOutcome.TERMINATED));

            assertThat(young.isAlive()).as("the young blocker survives the poll that ends the old one").isTrue();
            BlockerReport spared = events.reportsFor(young.pid()).get(0);
            assertThat(spared.outcome()).isEqualTo(BlockerOutcome.TOO_YOUNG);
            assertThat(spared.blocker().age()).isLessThan(MIN_DURATION);
            assertThat(events.reportsFor(old.pid())).singleElement()
                .satisfies((r) -> assertThat(r.blocker().age()).isGreaterThanOrEqualTo(MIN_DURATION));

            finish(alter);
        }
        assertThat(young.isAlive()).as("once old enough it is terminated too").isFalse();
        assertThat(events.reportsFor(young.pid())).extracting(BlockerReport::outcome)
            .containsExactly(BlockerOutcome.TOO_YOUNG, BlockerOutcome.TERMINATED);
        assertThat(events.reportsFor(young.pid()).get(1).blocker().age()).isGreaterThanOrEqualTo(MIN_DURATION);
    }

    private static double transactionAgeSeconds(TestDatabase db, TestSession session) throws Exception {
        Object age = db.queryValue(
                "SELECT extract(epoch FROM clock_timestamp() - xact_start) FROM pg_stat_activity WHERE pid = ?",
                session.pid());
        return ((BigDecimal) age).doubleValue();
    }
}
