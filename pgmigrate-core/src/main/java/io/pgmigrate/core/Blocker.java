package io.pgmigrate.core;

import java.time.Duration;
import java.time.Instant;
import java.util.regex.Pattern;

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
 */
public record Blocker(
        int pid,
        int blockedPid,
        String user,
        String database,
        String applicationName,
        String clientAddress,
        String state,
        String query,
        Instant backendStart,
        Instant transactionStart,
        Duration age,
        String waitEvent,
        String lockModes,
        boolean lockGranted,
        String lockedObject,
        Duration blockedFor,
        String preparedTransaction) {

    /**
     * White space and line breaks, including those {@code \\s} does not match (NEL, LINE SEPARATOR,
     * PARAGRAPH SEPARATOR), which log viewers and parsers also split lines on.
     */
    private static final Pattern LINE_BREAKS_AND_SPACES = Pattern.compile("[\\s\\u0085\\u2028\\u2029]+");

    /**
     * The query on one line, for log lines and messages: each run of white space or line breaks becomes one
     * space. {@code null} when PostgreSQL showed no query.
     */
    public String queryOnOneLine() {
        return oneLine(query);
    }

    /**
     * A text of a blocker (its query, role, database, object or transaction name; quoted identifiers may hold line
     * breaks) on one line, for log lines and messages: each run of white space or line breaks becomes one space.
     * {@code null} for {@code null}.
     */
    public static String oneLine(String text) {
        return text == null ? null : LINE_BREAKS_AND_SPACES.matcher(text).replaceAll(" ").trim();
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
