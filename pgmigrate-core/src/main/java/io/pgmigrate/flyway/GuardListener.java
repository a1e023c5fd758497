package io.pgmigrate.flyway;

import java.time.Duration;
import java.time.Instant;
import java.util.List;

import io.pgmigrate.core.WatchListener;

/**
 * Receives the events of a guarded Flyway run, on top of the watcher's own events. Every method has an
 * empty default. Run events come on the thread that called {@link FlywayGuard#migrate}, watcher events on
 * the watcher's thread: keep them short and let them not throw (an exception is logged and otherwise ignored).
 */
public interface GuardListener extends WatchListener {

    /** {@link FlywayGuard#migrate} started. */
    default void runStarted(Instant started) {
    }

    /**
     * A migration is about to run; its blockers are watched from now on.
     * @param backendPid the PostgreSQL backend pid that runs it
     * @param migration its name, for example {@code 2 (add email)} or {@code repeatable (views)}
     */
    default void migrationStarted(int backendPid, String migration) {
    }

    /**
     * A migration ended.
     * @param lockWait the longest lock wait PostgreSQL reported for it, {@link Duration#ZERO} if it was never
     *        seen blocked
     */
    default void migrationFinished(String migration, boolean success, Duration lockWait) {
    }

    /**
     * A migration or a Flyway callback hit the lock timeout; {@link LockTimeoutEvent#retried()} tells whether it is
     * tried again.
     */
    default void lockTimeout(LockTimeoutEvent event) {
    }

    /**
     * A migration waits for a connection of its own Flyway run (Flyway's main connection, holding its
     * transactional advisory lock), which pgmigrate never ends, so it cannot finish on its own. Called once per
     * migration and run, on the watcher's thread, after pgmigrate logged one ERROR line with the fix.
     */
    default void selfBlocked(SelfBlockedEvent event) {
    }

    /** {@link FlywayGuard#migrate} is about to return or throw; the watcher has stopped. */
    default void runFinished(MigrationRun run) {
    }

    /**
     * A listener that passes every event to each of the given listeners, in order. An exception thrown by
     * one is logged and does not keep the event from the others.
     */
    static GuardListener of(List<? extends GuardListener> listeners) {
        return new CompositeGuardListener(listeners);
    }
}
