package io.pgmigrate.core;

import java.time.Duration;
import java.util.List;
import java.util.Objects;

import org.jspecify.annotations.Nullable;

/**
 * The watcher cancelled the lock wait of a watched backend ({@code pg_cancel_backend}), once per wait.
 *
 * @param reason why the wait was cancelled
 * @param pid the watched backend whose wait was cancelled
 * @param work what it was doing, as the adapter registered it with the watcher, for example
 *        {@code migration 2 (add email)}
 * @param waitingFor what it waited for: a relation name such as {@code public.orders}, or the lock type
 *        ({@code transactionid}, {@code advisory}, ...); {@code null} when not known
 * @param queuedSessions how many other sessions queued behind it when its wait was cancelled
 * @param applicationQueued how long, as the watcher saw it, other sessions had queued behind it without a break;
 *        {@link Duration#ZERO} when none did
 * @param maxApplicationStall the bound in force ({@link WatchSettings#maxApplicationStall()})
 * @param keptBlockers the sessions it waited for that the watcher kept (excluded, protected, not permitted, a
 *        prepared transaction, too young, shown or ignored by the action, ...), each with why
 */
public record WaitCancellation(Reason reason, int pid, String work, @Nullable String waitingFor, int queuedSessions,
        Duration applicationQueued, Duration maxApplicationStall, List<BlockerReport> keptBlockers) {

    /** Why a watched backend's wait was cancelled. */
    public enum Reason {

        /**
         * Other sessions queued behind its lock wait for {@link WatchSettings#maxApplicationStall()} without a
         * break, while the sessions it waited for kept their locks (pgmigrate kept them, or they had not yet
         * released their locks after a signal).
         */
        APPLICATION_STALL,

        /** The thread that registered it with the watcher was interrupted while it waited. */
        INTERRUPT
    }

    /** Checks the fields and copies the list. */
    public WaitCancellation {
        Objects.requireNonNull(reason, "reason");
        Objects.requireNonNull(work, "work");
        Objects.requireNonNull(applicationQueued, "applicationQueued");
        Objects.requireNonNull(maxApplicationStall, "maxApplicationStall");
        keptBlockers = List.copyOf(keptBlockers);
    }
}
