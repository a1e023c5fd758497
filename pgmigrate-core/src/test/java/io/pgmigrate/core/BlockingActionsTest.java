package io.pgmigrate.core;

import java.sql.SQLException;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;

import io.pgmigrate.core.internal.Watcher;
import io.pgmigrate.testsupport.PostgresTest;
import io.pgmigrate.testsupport.TestDatabase;
import io.pgmigrate.testsupport.TestSession;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import static io.pgmigrate.core.Watching.awaitPolls;
import static io.pgmigrate.core.Watching.createOrders;
import static io.pgmigrate.core.Watching.eventually;
import static io.pgmigrate.core.Watching.finish;
import static io.pgmigrate.core.Watching.reader;
import static io.pgmigrate.core.Watching.startBlocked;
import static io.pgmigrate.core.Watching.watcher;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

@PostgresTest
class BlockingActionsTest {

    @BeforeEach
    void table(TestDatabase db) throws SQLException {
        createOrders(db);
    }

    @Test
    void showReportsTheBlockerOnceAndLeavesItAlive(TestDatabase db) throws Exception {
        TestSession report = reader(db, "report");
        TestSession migration = db.session("migration");
        CompletableFuture<Void> alter = startBlocked(migration, "ALTER TABLE orders ADD COLUMN note text");

        RecordingListener events = new RecordingListener();
        try (Watcher watcher = watcher(db, WatchSettings.defaults(), StandardBlockingAction.SHOW, events)) {
            watcher.watch(migration.pid(), "migration 2");
            eventually().until(() -> events.has(report.pid(), BlockerOutcome.SHOWN));
            awaitPolls(watcher, 5);

            assertThat(report.isAlive()).isTrue();
            assertThat(alter).isNotDone();
            assertThat(events.detections.size()).as("every poll detects the blocker").isGreaterThanOrEqualTo(5);
            assertThat(events.reports).as("but it is shown once").hasSize(1);

            report.rollback();
            finish(alter);
        }
    }

    @Test
    void noneReportsTheBlockerAsIgnoredAndLeavesItAlive(TestDatabase db) throws Exception {
        TestSession report = reader(db, "report");
        TestSession migration = db.session("migration");
        CompletableFuture<Void> alter = startBlocked(migration, "ALTER TABLE orders ADD COLUMN note text");

        RecordingListener events = new RecordingListener();
        try (Watcher watcher = watcher(db, WatchSettings.defaults(), StandardBlockingAction.NONE, events)) {
            watcher.watch(migration.pid(), "migration 2");
            eventually().until(() -> events.has(report.pid(), BlockerOutcome.IGNORED));
            awaitPolls(watcher, 3);

            assertThat(report.isAlive()).isTrue();
            assertThat(alter).isNotDone();
            assertThat(events.reports).extracting(BlockerReport::outcome).containsExactly(BlockerOutcome.IGNORED);
            report.rollback();
            finish(alter);
        }
    }

    @Test
    void cancelStopsTheBlockersRunningStatementAndKeepsItsSession(TestDatabase db) throws Exception {
        TestSession report = db.session("report");
        CompletableFuture<Void> slowQuery = report.executeAsync("SELECT pg_sleep(120) FROM orders LIMIT 1");
        eventually().until(() -> "active".equals(db.queryValue(
                "SELECT state FROM pg_stat_activity WHERE pid = ? AND query LIKE '%pg_sleep%'", report.pid())));
        TestSession migration = db.session("migration");
        CompletableFuture<Void> alter = startBlocked(migration, "ALTER TABLE orders ADD COLUMN note text");

        RecordingListener events = new RecordingListener();
        try (Watcher watcher = watcher(db, WatchSettings.defaults(), StandardBlockingAction.CANCEL, events)) {
            watcher.watch(migration.pid(), "migration 2");
            finish(alter);
        }

        assertThatThrownBy(() -> slowQuery.get()).isInstanceOf(ExecutionException.class)
            .cause().isInstanceOf(SQLException.class)
            .satisfies((ex) -> assertThat(((SQLException) ex).getSQLState()).isEqualTo("57014"));
        assertThat(report.isAlive()).isTrue();
        assertThat(report.queryValue("SELECT 1")).isEqualTo(1);
        assertThat(events.reports(BlockerOutcome.CANCELED)).extracting((r) -> r.blocker().pid())
            .containsExactly(report.pid());
    }

    @Test
    void cancelCannotFreeASessionIdleInTransaction(TestDatabase db) throws Exception {
        TestSession report = reader(db, "report");
        TestSession migration = db.session("migration");
        CompletableFuture<Void> alter = startBlocked(migration, "ALTER TABLE orders ADD COLUMN note text");

        RecordingListener events = new RecordingListener();
        try (Watcher watcher = watcher(db, WatchSettings.defaults(), StandardBlockingAction.CANCEL, events)) {
            watcher.watch(migration.pid(), "migration 2");
            eventually().until(() -> events.has(report.pid(), BlockerOutcome.CANCELED));
            awaitPolls(watcher, 3);
            assertThat(alter).as("an idle session has no statement to cancel").isNotDone();
            assertThat(report.isAlive()).isTrue();
            report.rollback();
            finish(alter);
        }
    }

    @Test
    void aCustomActionDecidesPerBlockerAndWhatItLeavesIsReportedAsCustom(TestDatabase db) throws Exception {
        TestSession report = reader(db, "report-nightly");
        TestSession worker = reader(db, "worker");
        TestSession audit = reader(db, "audit");
        TestSession migration = db.session("migration");
        CompletableFuture<Void> alter = startBlocked(migration, "ALTER TABLE orders ADD COLUMN note text");

        BlockingAction reportsOnly = (blockers, control) -> {
            for (Blocker blocker : blockers) {
                if (blocker.applicationName().startsWith("report")) {
                    control.terminate(List.of(blocker));
                }
                else if (blocker.applicationName().equals("worker")) {
                    control.show(blocker);
                }
            }
        };
        RecordingListener events = new RecordingListener();
        try (Watcher watcher = watcher(db, WatchSettings.defaults(), reportsOnly, events)) {
            watcher.watch(migration.pid(), "migration 2");
            eventually().until(() -> events.has(audit.pid(), BlockerOutcome.CUSTOM)
                    && events.has(report.pid(), BlockerOutcome.TERMINATED));
            assertThat(events.has(worker.pid(), BlockerOutcome.SHOWN)).isTrue();
            assertThat(report.isAlive()).isFalse();
            assertThat(worker.isAlive()).isTrue();
            assertThat(audit.isAlive()).isTrue();
            worker.rollback();
            audit.rollback();
            finish(alter);
        }
    }
}
