package io.pgmigrate.core;

import java.sql.SQLException;
import java.time.Duration;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;

import io.pgmigrate.core.internal.Watcher;
import io.pgmigrate.testsupport.TestDatabase;
import io.pgmigrate.testsupport.TestSession;
import org.awaitility.core.ConditionFactory;

import static org.awaitility.Awaitility.await;

/** Shared steps of the watcher tests: a table to migrate and a migration that waits for its lock. */
final class Watching {

    static final Duration DEADLINE = Duration.ofSeconds(60);

    private Watching() {
    }

    static ConditionFactory eventually() {
        return await().atMost(DEADLINE).pollInterval(Duration.ofMillis(20));
    }

    static void createOrders(TestDatabase db) throws SQLException {
        db.execute("DROP TABLE IF EXISTS orders", "CREATE TABLE orders (id int PRIMARY KEY, total int)",
                "INSERT INTO orders SELECT g, g * 10 FROM generate_series(1, 100) g");
    }

    /** A session idle in a transaction that has read the table: it holds ACCESS SHARE on it. */
    static TestSession reader(TestDatabase db, String applicationName) throws SQLException {
        return db.session(applicationName).begin().execute("SELECT count(*) FROM orders");
    }

    /** Starts {@code sql} on the migration session and returns once PostgreSQL reports it waiting for a lock. */
    static CompletableFuture<Void> startBlocked(TestSession migration, String sql) {
        CompletableFuture<Void> done = migration.executeAsync(sql);
        eventually().until(() -> done.isDone() || migration.isWaitingForLock());
        return done;
    }

    static Watcher watcher(TestDatabase db, WatchSettings settings, BlockingAction action, GuardListener listener) {
        return new Watcher(db.dataSource(), settings.withPollInterval(Duration.ofMillis(50)), action, listener)
            .start();
    }

    static void finish(CompletableFuture<Void> work) throws Exception {
        work.get(DEADLINE.toSeconds(), TimeUnit.SECONDS);
    }

    /** Waits until the watcher has completed {@code count} more polls. */
    static void awaitPolls(Watcher watcher, int count) {
        long target = watcher.polls() + count;
        eventually().until(() -> watcher.polls() >= target);
    }
}
