package io.pgmigrate.core.internal;

import java.sql.SQLException;

import io.pgmigrate.core.WaitCancellation;
import org.jspecify.annotations.Nullable;

/**
 * What a guarded run does with a step that failed, whatever the migration tool: a step is retried only if it ran in
 * a transaction that PostgreSQL rolled back (after the lock timeout, or after the watcher cancelled its lock wait
 * because the application queued behind it), retries are left, and it did not wait for a connection of its own run
 * (a deadlock a retry would meet again). Callbacks are never retried: a second attempt would run other callbacks
 * than the ones that failed. An interrupted run is never retried.
 */
public final class RetryPolicy {

    /** PostgreSQL's lock_not_available: the lock timeout ran out. */
    public static final String LOCK_NOT_AVAILABLE = "55P03";

    /** PostgreSQL's query_canceled: the statement was cancelled (here: its lock wait, by the watcher). */
    public static final String QUERY_CANCELED = "57014";

    /** What to do with a failed attempt. */
    public enum Verdict {

        /** Not a failure the guard explains: the tool's own failure goes to the caller as it is. */
        NOT_OURS,

        /** The migrating thread was interrupted and the watcher cancelled the step's wait: fail, never retry. */
        INTERRUPTED,

        /** A callback whose lock wait was cancelled for the application's sake: fail. */
        STALLED_CALLBACK,

        /** A step outside a transaction whose lock wait was cancelled: fail, naming what it may have left. */
        STALLED_OUTSIDE_TRANSACTION,

        /** A transactional step whose lock wait was cancelled, with no retry left: fail. */
        STALLED_NO_RETRY_LEFT,

        /** A transactional step whose lock wait was cancelled, rolled back: try again after the delay. */
        RETRY_AFTER_STALL,

        /** A callback that hit the lock timeout: fail. */
        LOCK_TIMEOUT_CALLBACK,

        /** A step outside a transaction that hit the lock timeout: fail, naming what it may have left. */
        LOCK_TIMEOUT_OUTSIDE_TRANSACTION,

        /** A transactional step that hit the lock timeout, with no retry left or waiting for its own run: fail. */
        LOCK_TIMEOUT_NO_RETRY_LEFT,

        /** A transactional step that hit the lock timeout, rolled back: try again after the delay. */
        RETRY_AFTER_LOCK_TIMEOUT;

        /** Whether the run tries again. */
        public boolean retried() {
            return this == RETRY_AFTER_STALL || this == RETRY_AFTER_LOCK_TIMEOUT;
        }
    }

    private RetryPolicy() {
    }

    /**
     * The verdict on a failed attempt.
     * @param failed the step that failed, {@code null} when the failure came from none (see
     *        {@link GuardedRun#failed})
     * @param cancelled the watcher's cancellation of the step's lock wait, {@code null} when it cancelled none
     * @param failure what the tool threw
     * @param interrupted whether the migrating thread is interrupted
     * @param attempt the attempt that failed, 1 for the first
     * @param lockRetries how many retries the settings allow
     */
    public static Verdict verdict(GuardedRun.@Nullable Step failed, @Nullable WaitCancellation cancelled,
            Throwable failure,
            boolean interrupted, int attempt, int lockRetries) {
        if (interrupted) {
            return (cancelled != null && cancelled.reason() == WaitCancellation.Reason.INTERRUPT) ? Verdict.INTERRUPTED
                    : Verdict.NOT_OURS;
        }
        String sqlState = sqlState(failure);
        boolean stalled = cancelled != null && cancelled.reason() == WaitCancellation.Reason.APPLICATION_STALL
                && QUERY_CANCELED.equals(sqlState);
        if (failed == null || !(stalled || LOCK_NOT_AVAILABLE.equals(sqlState))) {
            return Verdict.NOT_OURS;
        }
        if (stalled) {
            if (failed.callback()) {
                return Verdict.STALLED_CALLBACK;
            }
            if (!failed.inTransaction()) {
                return Verdict.STALLED_OUTSIDE_TRANSACTION;
            }
            return attempt > lockRetries ? Verdict.STALLED_NO_RETRY_LEFT : Verdict.RETRY_AFTER_STALL;
        }
        if (failed.callback()) {
            return Verdict.LOCK_TIMEOUT_CALLBACK;
        }
        if (!failed.inTransaction()) {
            return Verdict.LOCK_TIMEOUT_OUTSIDE_TRANSACTION;
        }
        // a wait for another connection of the run is a deadlock: a retry would wait the same way
        return (failed.blockedByOwnConnection() || attempt > lockRetries) ? Verdict.LOCK_TIMEOUT_NO_RETRY_LEFT
                : Verdict.RETRY_AFTER_LOCK_TIMEOUT;
    }

    /**
     * The start of the failure of a step whose thread was interrupted while it waited for a lock
     * ({@link Verdict#INTERRUPTED}), whatever the tool: what waited, that the watcher cancelled its wait, and where.
     * The tool goes on with what is left of the step.
     * @param kind the step's kind as the tool names it: {@code migration}, {@code callback}, {@code changeset}
     */
    public static StringBuilder interruptedMessage(GuardedRun.Step failed, WaitCancellation cancelled, String kind) {
        StringBuilder message = new StringBuilder("pgmigrate: ").append(failed.work())
            .append(" was interrupted while it waited for a lock; pgmigrate cancelled its wait and does not retry it: ")
            .append(kind).append("=\"").append(failed.name()).append("\" pid=").append(cancelled.pid());
        if (cancelled.waitingFor() != null) {
            message.append(" object=").append(cancelled.waitingFor());
        }
        return message;
    }

    /** The SQLSTATE of the first SQL error among the failure's causes, {@code null} when there is none. */
    static String sqlState(Throwable failure) {
        Throwable current = failure;
        for (int depth = 0; current != null && depth < 32; depth++) {
            if (current instanceof SQLException sql) {
                return sql.getSQLState();
            }
            current = current.getCause();
        }
        return null;
    }
}
