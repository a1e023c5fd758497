package io.pgmigrate.core;

/** What the watcher did about a blocker, or why it did nothing. */
public enum BlockerOutcome {

    /** Ended with {@code pg_terminate_backend}: its transaction was rolled back and its connection closed. */
    TERMINATED,

    /** Its running statement was cancelled with {@code pg_cancel_backend}; the session stays. */
    CANCELED,

    /** Reported only, by the {@code show} action. */
    SHOWN,

    /** Left alone by the {@code none} action. */
    IGNORED,

    /** Handed to a user's {@link BlockingAction}, which neither terminated nor cancelled it. */
    CUSTOM,

    /** Left alone for now: it has not held its locks for the minimum duration yet. */
    TOO_YOUNG,

    /** Left alone: its application name or user is excluded by configuration. */
    EXCLUDED,

    /**
     * Left alone: a session of this migration run, the watcher itself, another watched backend, or a
     * session of another pgmigrate migrator.
     */
    PROTECTED,

    /**
     * Left alone: a PostgreSQL process, not a client session (autovacuum, a walsender, a logical replication or
     * other background worker); pgmigrate never signals these, whatever the action.
     */
    SYSTEM_PROCESS,

    /**
     * Left alone: the watched backend waits only for this session's transaction to end (a snapshot wait of
     * {@code CREATE INDEX CONCURRENTLY} and its kin); it holds no lock the application queues behind.
     */
    SNAPSHOT_WAIT,

    /** The watcher's role may not signal it (missing {@code pg_signal_backend}, or it belongs to a superuser). */
    NOT_PERMITTED,

    /** A prepared transaction: no session exists to end; only {@code COMMIT/ROLLBACK PREPARED} can. */
    UNENDABLE,

    /** It no longer blocked the watched backend when the signal was about to be sent, so none was sent. */
    GONE;

    /** Whether a signal reached the session. */
    public boolean signalled() {
        return this == TERMINATED || this == CANCELED;
    }
}
