package io.pgmigrate.core;

import java.time.Duration;
import java.time.Instant;
import java.util.List;

import io.pgmigrate.core.internal.FanOut;

/**
 * Receives the events of a guarded run: what the watcher sees and does, and how the run's steps go.
 * Logging, metrics and history subscribe here, so neither the engine nor a migration tool's adapter knows any of
 * them. Every method has an empty default. Run events come on the thread that migrates, watcher events on the
 * watcher's thread: keep them short and let them not throw (an exception is logged and otherwise ignored).
 */
public interface GuardListener {

    /** The guarded run started. */
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

    /** A poll found blockers (every poll that finds any, before they are handled). */
    default void blockersDetected(List<Blocker> blockers) {
    }

    /** A blocker was handled; each blocking transaction is reported once per outcome. */
    default void blockerHandled(BlockerReport report) {
    }

    /**
     * The watcher cancelled a watched backend's lock wait: it kept other sessions queued for longer than
     * {@link WatchSettings#maxApplicationStall()}, or the thread that registered it was interrupted. Once per wait,
     * after the watcher's own WARN line.
     */
    default void waitCancelled(WaitCancellation event) {
    }

    /** A poll failed; the watcher retries on the next poll with a new connection. */
    default void watcherFailed(Exception error) {
    }

    /**
     * A migration or a callback hit the lock timeout; {@link LockTimeoutEvent#retried()} tells whether it is tried
     * again.
     */
    default void lockTimeout(LockTimeoutEvent event) {
    }

    /**
     * A migration waits for a connection of its own run (Flyway's main connection, holding its transactional
     * advisory lock), which pgmigrate never ends, so it cannot finish on its own. Called once per migration and
     * run, on the watcher's thread, after pgmigrate logged one ERROR line with the fix.
     */
    default void selfBlocked(SelfBlockedEvent event) {
    }

    /** The guarded run is about to return or throw; the watcher has stopped. */
    default void runFinished(MigrationRun run) {
    }

    /**
     * A listener that passes every event to each of the given listeners, in order. An exception thrown by one is
     * logged and does not keep the event from the others, nor fails the migration. Listeners that are themselves
     * made by this method are taken apart, so events always go through one flat list.
     */
    static GuardListener of(List<? extends GuardListener> listeners) {
        return new FanOut(listeners);
    }
}
