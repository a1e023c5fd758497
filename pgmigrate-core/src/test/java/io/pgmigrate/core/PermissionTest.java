package io.pgmigrate.core;

import java.time.Duration;
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
import static org.assertj.core.api.Assertions.assertThat;

/** A migration role that is not a superuser, and the blockers it may or may not end. */
@PostgresTest
class PermissionTest {

    @Test
    void aBlockerOfAnotherRoleIsReportedOnceAsNotPermittedUntilPgSignalBackendIsGranted(TestDatabase db)
            throws Exception {
        String owner = db.createRole("owner");
        String app = db.createRole("app");
        createOrders(db);
        db.execute("ALTER TABLE orders OWNER TO " + owner, "GRANT SELECT ON orders TO " + app);
        TestSession blocker = db.sessionAs(app, "report").begin().execute("SELECT count(*) FROM orders");
        TestSession migration = db.sessionAs(owner, "migration");
        CompletableFuture<Void> alter = startBlocked(migration, "ALTER TABLE orders ADD COLUMN note text");

        RecordingListener events = new RecordingListener();
        try (Watcher watcher = new Watcher(db.dataSource(owner, owner),
                WatchSettings.defaults().withPollInterval(Duration.ofMillis(50)), StandardBlockingAction.TERMINATE,
                events).start()) {
            watcher.watch(migration.pid(), "migration 2");
            eventually().until(() -> events.has(blocker.pid(), BlockerOutcome.NOT_PERMITTED));
            awaitPolls(watcher, 5);

            assertThat(events.reports).singleElement().satisfies((r) -> {
                assertThat(r.outcome()).isEqualTo(BlockerOutcome.NOT_PERMITTED);
                assertThat(r.detail()).contains("pg_signal_backend");
                assertThat(r.blocker().user()).isEqualTo(app);
            });
            assertThat(events.failures).as("the watcher goes on without errors").isEmpty();
            assertThat(blocker.isAlive()).isTrue();
            assertThat(alter).isNotDone();

            db.execute("GRANT pg_signal_backend TO " + owner);
            finish(alter);
        }
        assertThat(blocker.isAlive()).isFalse();
        assertThat(events.reportsFor(blocker.pid())).extracting(BlockerReport::outcome)
            .containsExactly(BlockerOutcome.NOT_PERMITTED, BlockerOutcome.TERMINATED);
    }

    @Test
    void aSuperusersSessionIsNeverSignalledByAnOrdinaryRole(TestDatabase db) throws Exception {
        String owner = db.createRole("owner2");
        createOrders(db);
        db.execute("ALTER TABLE orders OWNER TO " + owner, "GRANT pg_signal_backend TO " + owner);
        TestSession admin = db.session("psql").begin().execute("SELECT count(*) FROM orders");
        TestSession migration = db.sessionAs(owner, "migration");
        CompletableFuture<Void> alter = startBlocked(migration, "ALTER TABLE orders ADD COLUMN note text");

        RecordingListener events = new RecordingListener();
        try (Watcher watcher = new Watcher(db.dataSource(owner, owner),
                WatchSettings.defaults().withPollInterval(Duration.ofMillis(50)), StandardBlockingAction.TERMINATE,
                events).start()) {
            watcher.watch(migration.pid(), "migration 2");
            eventually().until(() -> events.has(admin.pid(), BlockerOutcome.NOT_PERMITTED));
            assertThat(events.reportsFor(admin.pid()).get(0).detail()).contains("superuser");
            assertThat(admin.isAlive()).isTrue();
            admin.rollback();
            finish(alter);
        }
    }
}
