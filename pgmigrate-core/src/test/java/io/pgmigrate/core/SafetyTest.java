package io.pgmigrate.core;

import java.sql.SQLException;
import java.util.Set;
import java.util.concurrent.CompletableFuture;

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

/** Sessions the watcher must never act on, even while the watched migration is blocked. */
@PostgresTest
class SafetyTest {

    @BeforeEach
    void tables(TestDatabase db) throws SQLException {
        createOrders(db);
        db.execute("DROP TABLE IF EXISTS audit", "CREATE TABLE audit (id int)");
    }

    @Test
    void sessionsOnOtherTablesAndInOtherDatabasesAreNeverTouched(TestDatabase db) throws Exception {
        String otherDatabase = db.createDatabase("other");
        TestSession elsewhere = db.sessionOn(otherDatabase, "other-db").begin()
            .execute("CREATE TABLE orders (id int)", "LOCK TABLE orders IN ACCESS EXCLUSIVE MODE");
        TestSession unrelated = db.session("unrelated").begin().execute("LOCK TABLE audit IN ACCESS EXCLUSIVE MODE");
        TestSession report = reader(db, "report");
        TestSession migration = db.session("migration");
        CompletableFuture<Void> alter = startBlocked(migration, "ALTER TABLE orders ADD COLUMN note text");

        RecordingListener events = new RecordingListener();
        try (Watcher watcher = watcher(db, WatchSettings.defaults(), StandardBlockingAction.TERMINATE, events)) {
            watcher.watch(migration.pid(), "migration 2");
            finish(alter);
        }

        assertThat(report.isAlive()).isFalse();
        assertThat(elsewhere.isAlive()).isTrue();
        assertThat(unrelated.isAlive()).isTrue();
        assertThat(events.reports).extracting((r) -> r.blocker().pid()).containsExactly(report.pid());
    }

    @Test
    void excludedApplicationNamesAndUsersAreNeverTouched(TestDatabase db) throws Exception {
        String reporting = db.createRole("reporting");
        db.execute("GRANT SELECT ON orders TO " + reporting);
        TestSession backup = reader(db, "backup-tool");
        TestSession analyst = db.sessionAs(reporting, "psql").begin().execute("SELECT count(*) FROM orders");
        TestSession report = reader(db, "report");
        TestSession migration = db.session("migration");
        CompletableFuture<Void> alter = startBlocked(migration, "ALTER TABLE orders ADD COLUMN note text");

        RecordingListener events = new RecordingListener();
        WatchSettings settings = WatchSettings.defaults()
            .withExcludedApplicationNames(Set.of("backup-tool"))
            .withExcludedUsers(Set.of(reporting));
        try (Watcher watcher = watcher(db, settings, StandardBlockingAction.TERMINATE, events)) {
            watcher.watch(migration.pid(), "migration 2");
            eventually().until(() -> events.has(report.pid(), BlockerOutcome.TERMINATED)
                    && events.has(backup.pid(), BlockerOutcome.EXCLUDED)
                    && events.has(analyst.pid(), BlockerOutcome.EXCLUDED));
            awaitPolls(watcher, 3);

            assertThat(backup.isAlive()).isTrue();
            assertThat(analyst.isAlive()).isTrue();
            assertThat(alter).as("the excluded sessions still block it").isNotDone();
            assertThat(events.reportsFor(backup.pid())).singleElement()
                .satisfies((r) -> assertThat(r.detail()).contains("application_name=backup-tool"));
            assertThat(events.reportsFor(analyst.pid())).singleElement()
                .satisfies((r) -> assertThat(r.detail()).contains("user=" + reporting));

            backup.rollback();
            analyst.rollback();
            finish(alter);
        }
    }

    @Test
    void sqlInTheExclusionsIsMatchedAsDataNeverExecuted(TestDatabase db) throws Exception {
        String hostileName = "x'); DROP TABLE audit; --";
        String hostileUser = "nobody' OR '1'='1";
        TestSession tool = reader(db, hostileName);
        TestSession report = reader(db, "report");
        TestSession migration = db.session("migration");
        CompletableFuture<Void> alter = startBlocked(migration, "ALTER TABLE orders ADD COLUMN note text");

        RecordingListener events = new RecordingListener();
        WatchSettings settings = WatchSettings.defaults()
            .withExcludedApplicationNames(Set.of(hostileName))
            .withExcludedUsers(Set.of(hostileUser));
        try (Watcher watcher = watcher(db, settings, StandardBlockingAction.TERMINATE, events)) {
            watcher.watch(migration.pid(), "migration 2");
            eventually().until(() -> events.has(report.pid(), BlockerOutcome.TERMINATED)
                    && events.has(tool.pid(), BlockerOutcome.EXCLUDED));
            assertThat(tool.isAlive()).isTrue();
            tool.rollback();
            finish(alter);
        }
        assertThat(db.queryValue("SELECT to_regclass('public.audit') IS NOT NULL")).isEqualTo(true);
    }

    @Test
    void pgmigrateSessionsAndProtectedConnectionsAreNeverTouched(TestDatabase db) throws Exception {
        TestSession otherMigrator = reader(db, "pgmigrate-migration");
        TestSession ownRun = reader(db, "flyway-main");
        TestSession migration = db.session("migration");
        CompletableFuture<Void> alter = startBlocked(migration, "ALTER TABLE orders ADD COLUMN note text");

        RecordingListener events = new RecordingListener();
        try (Watcher watcher = watcher(db, WatchSettings.defaults(), StandardBlockingAction.TERMINATE, events)) {
            watcher.protect(ownRun.pid());
            watcher.watch(migration.pid(), "migration 2");
            eventually().until(() -> events.has(otherMigrator.pid(), BlockerOutcome.PROTECTED)
                    && events.has(ownRun.pid(), BlockerOutcome.PROTECTED));
            awaitPolls(watcher, 3);
            assertThat(otherMigrator.isAlive()).isTrue();
            assertThat(ownRun.isAlive()).isTrue();
            assertThat(events.reports).extracting(BlockerReport::outcome).containsOnly(BlockerOutcome.PROTECTED);
            otherMigrator.rollback();
            ownRun.rollback();
            finish(alter);
        }
    }

    /**
     * A soft blocker waits for a conflicting lock ahead of the migration in the lock queue. PostgreSQL
     * would grant it the lock first, so leaving it alone keeps the migration waiting: it is acted on like a
     * hard blocker, and its report says it did not hold the lock yet.
     */
    @Test
    void softBlockersQueuedAheadOfTheMigrationAreActedOnLikeHardBlockers(TestDatabase db) throws Exception {
        TestSession report = reader(db, "report");
        TestSession queued = db.session("batch-job").begin();
        CompletableFuture<Void> lock = startBlocked(queued, "LOCK TABLE orders IN ACCESS EXCLUSIVE MODE");
        TestSession migration = db.session("migration");
        CompletableFuture<Void> alter = startBlocked(migration, "ALTER TABLE orders ADD COLUMN note text");
        assertThat(lock).as("queued behind the report, ahead of the migration").isNotDone();

        RecordingListener events = new RecordingListener();
        try (Watcher watcher = watcher(db, WatchSettings.defaults(), StandardBlockingAction.TERMINATE, events)) {
            watcher.watch(migration.pid(), "migration 2");
            finish(alter);
        }

        // the queued LOCK may be granted for an instant once the report is gone; its session is ended either way
        assertThat(queued.isAlive()).isFalse();
        assertThat(events.reportsFor(queued.pid())).singleElement().satisfies((r) -> {
            assertThat(r.outcome()).isEqualTo(BlockerOutcome.TERMINATED);
            assertThat(r.blocker().lockGranted()).isFalse();
            assertThat(r.blocker().lockModes()).isEqualTo("AccessExclusiveLock");
        });
        assertThat(events.reportsFor(report.pid())).singleElement().satisfies((r) -> {
            assertThat(r.outcome()).isEqualTo(BlockerOutcome.TERMINATED);
            assertThat(r.blocker().lockGranted()).isTrue();
        });
    }

    @Test
    void onlyDirectBlockersAreActedOnNeverTheBlockersOfThoseBlockers(TestDatabase db) throws Exception {
        TestSession root = db.session("root-holder").begin().execute("LOCK TABLE audit IN ACCESS EXCLUSIVE MODE");
        TestSession middle = reader(db, "middle");
        CompletableFuture<Void> middleWaits = startBlocked(middle, "SELECT count(*) FROM audit");
        TestSession migration = db.session("migration");
        CompletableFuture<Void> alter = startBlocked(migration, "ALTER TABLE orders ADD COLUMN note text");

        RecordingListener events = new RecordingListener();
        try (Watcher watcher = watcher(db, WatchSettings.defaults(), StandardBlockingAction.TERMINATE, events)) {
            watcher.watch(migration.pid(), "migration 2");
            finish(alter);
        }

        assertThat(middle.isAlive()).isFalse();
        eventually().until(middleWaits::isDone);
        assertThat(middleWaits).isCompletedExceptionally();
        assertThat(root.isAlive()).isTrue();
        assertThat(events.reports).extracting((r) -> r.blocker().pid()).containsExactly(middle.pid());
    }

    @Test
    void theWatchedBackendIsNeverActedOnWhileADeadlockForms(TestDatabase db) throws Exception {
        TestSession migration = db.session("migration").begin()
            .execute("SET deadlock_timeout = '60s'", "ALTER TABLE audit ADD COLUMN checked boolean");
        TestSession other = reader(db, "worker").execute("SET deadlock_timeout = '60s'");
        CompletableFuture<Void> otherWaits = startBlocked(other, "SELECT count(*) FROM audit");
        CompletableFuture<Void> alter = startBlocked(migration, "ALTER TABLE orders ADD COLUMN note text");

        RecordingListener events = new RecordingListener();
        try (Watcher watcher = watcher(db, WatchSettings.defaults(), StandardBlockingAction.TERMINATE, events)) {
            watcher.watch(migration.pid(), "migration 2");
            finish(alter);
            migration.commit();
        }

        assertThat(migration.isAlive()).isTrue();
        assertThat(other.isAlive()).isFalse();
        eventually().until(otherWaits::isDone);
        assertThat(otherWaits).isCompletedExceptionally();
        assertThat(events.reports).extracting((r) -> r.blocker().pid()).containsExactly(other.pid());
    }

    @Test
    void aBackendWatchedTogetherWithAnotherIsProtectedFromIt(TestDatabase db) throws Exception {
        TestSession first = db.session("migration-1").begin().execute("LOCK TABLE audit IN ACCESS EXCLUSIVE MODE");
        TestSession second = db.session("migration-2");
        CompletableFuture<Void> secondWaits = startBlocked(second, "ALTER TABLE audit ADD COLUMN checked boolean");

        RecordingListener events = new RecordingListener();
        try (Watcher watcher = watcher(db, WatchSettings.defaults(), StandardBlockingAction.TERMINATE, events)) {
            watcher.watch(first.pid(), "migration 1");
            watcher.watch(second.pid(), "migration 2");
            eventually().until(() -> events.has(first.pid(), BlockerOutcome.PROTECTED));
            assertThat(first.isAlive()).isTrue();
            first.commit();
            finish(secondWaits);
        }
    }
}
