package io.pgmigrate.core;

import java.time.Duration;
import java.time.Instant;

import io.pgmigrate.core.internal.BlockerText;
import org.jspecify.annotations.Nullable;

/**
 * A session that PostgreSQL reports, through {@code pg_blocking_pids()}, as blocking a watched backend.
 * <p>
 * The fields come from {@code pg_stat_activity} and {@code pg_locks} as they were when the watcher asked.
 * Fields PostgreSQL does not show to the watcher's role (another role's session seen without
 * {@code pg_read_all_stats}) are {@code null}.
 *
 * @param pid backend pid of the blocking session; {@code 0} for a prepared transaction, which has no session
 * @param blockedPid backend pid of the watched backend this session blocks
 * @param user role of the blocking session (for a prepared transaction: its owner)
 * @param database database of the blocking session
 * @param applicationName {@code application_name} of the blocking session, empty when it set none
 * @param clientAddress client address, {@code null} for Unix-socket connections
 * @param state {@code pg_stat_activity.state}, for example {@code idle in transaction}
 * @param query the session's current or last query, cut to the watcher's query length limit
 * @param backendStart when the session connected; with {@code pid} it identifies the session
 * @param transactionStart when its current transaction began, {@code null} outside a transaction
 * @param age how long the blocker has held its locks at least, measured by the server: the age of its
 *        transaction, or, outside a transaction (a session-level advisory lock), the time since its last
 *        statement ended; for a prepared transaction, the time since it was prepared
 * @param waitEvent what the blocking session itself waits for ({@code type:event}), {@code null} when running
 * @param lockModes the modes it holds or requests on the object the watched backend waits for, for example
 *        {@code AccessShareLock}
 * @param lockGranted {@code true} when it holds the conflicting lock; {@code false} when it only waits for
 *        it ahead of the watched backend in the lock queue (a "soft" blocker)
 * @param lockedObject what the watched backend waits for: a relation name such as {@code public.orders},
 *        or the lock type ({@code transactionid}, {@code advisory}, ...) when it is not a relation
 * @param blockedFor how long the watched backend has waited for the lock, {@code null} if not known
 * @param preparedTransaction the gid of the prepared transaction when {@code pid} is 0, otherwise {@code null}
 * @param backendType what kind of PostgreSQL backend the blocker is: {@code client backend} for a client
 *        session, or {@code autovacuum worker}, {@code walsender}, {@code logical replication worker},
 *        {@code background worker}, ... for PostgreSQL's own processes ({@code pg_stat_activity.backend_type});
 *        when PostgreSQL hides it from the watcher's role (another role's session seen without
 *        {@code pg_read_all_stats}), {@code postgres process} for a backend without a role, {@code walsender} or
 *        {@code logical replication worker} where PostgreSQL lists it as one, otherwise {@code null};
 *        {@code null} for a prepared transaction
 * @param waitLockType the {@code pg_locks.locktype} the watched backend waits for: {@code relation},
 *        {@code tuple}, {@code transactionid}, {@code advisory}, ..., or {@code virtualxid} when it waits only
 *        for the blocker's transaction to end (a snapshot wait); {@code null} if not known
 * @param sameRoleAsBlocked whether the blocker runs under the same role as the backend it blocks
 */
public record Blocker(
        int pid,
        int blockedPid,
        @Nullable String user,
        @Nullable String database,
        @Nullable String applicationName,
        @Nullable String clientAddress,
        @Nullable String state,
        @Nullable String query,
        Instant backendStart,
        @Nullable Instant transactionStart,
        @Nullable Duration age,
        @Nullable String waitEvent,
        @Nullable String lockModes,
        boolean lockGranted,
        @Nullable String lockedObject,
        @Nullable Duration blockedFor,
        @Nullable String preparedTransaction,
        @Nullable String backendType,
        @Nullable String waitLockType,
        boolean sameRoleAsBlocked) {

    /** The backend type of a client session. */
    public static final String CLIENT_BACKEND = "client backend";

    /**
     * The query on one line, for log lines and messages: each run of white space or line breaks becomes one
     * space (see {@link BlockerText#oneLine}). {@code null} when PostgreSQL showed no query.
     */
    public @Nullable String queryOnOneLine() {
        return BlockerText.oneLine(query);
    }

    /**
     * Whether the blocker is one of PostgreSQL's own processes (autovacuum, a walsender, a logical replication or
     * other background worker) rather than a client session. A blocker whose type is hidden and cannot be told
     * otherwise counts as a client session.
     */
    public boolean isSystemProcess() {
        return !isPreparedTransaction() && backendType != null && !CLIENT_BACKEND.equals(backendType);
    }

    /**
     * Whether the watched backend waits only for the blocker's transaction to end, not for a lock on a table or
     * an object: {@code CREATE INDEX CONCURRENTLY}, {@code REINDEX CONCURRENTLY}, {@code DROP INDEX CONCURRENTLY}
     * and {@code DETACH PARTITION CONCURRENTLY} wait so for every older transaction of the database. No query
     * of the application queues behind such a wait.
     */
    public boolean isSnapshotWait() {
        return "virtualxid".equals(waitLockType);
    }

    /** Whether this is a prepared transaction: no session exists that an action could end. */
    public boolean isPreparedTransaction() {
        return pid == 0;
    }

    /**
     * Identifies the blocking transaction across polls: the same pid, the same connection, the same
     * transaction. A pid reused by a new connection, or a new transaction of the same session, is another key.
     */
    public String key() {
        return isPreparedTransaction() ? "prepared:" + preparedTransaction
                : pid + "@" + backendStart + "/" + transactionStart;
    }

    @Override
    public String toString() {
        return isPreparedTransaction() ? "prepared transaction " + preparedTransaction : "pid " + pid;
    }
}
