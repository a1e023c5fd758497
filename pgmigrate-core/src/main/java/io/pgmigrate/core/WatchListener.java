package io.pgmigrate.core;

import java.util.List;

/**
 * Receives what a {@link Watcher} sees and does. Logging, metrics and history subscribe here, so the
 * engine knows none of them. Methods run on the watcher's thread: keep them short and let them not throw
 * (an exception is logged and otherwise ignored).
 */
public interface WatchListener {

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
     * A listener that passes every event to each of the given listeners, in order. An exception thrown by
     * one is logged and does not keep the event from the others.
     */
    static WatchListener of(List<? extends WatchListener> listeners) {
        return new CompositeWatchListener(listeners);
    }
}
