package io.pgmigrate.core.internal;

import java.sql.Array;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Types;
import java.util.ArrayList;
import java.util.Collection;
import java.util.List;

/**
 * Asks PostgreSQL which watched backends wait for a lock and how many other sessions queue behind them, and
 * cancels such a wait. The one place where the SQL of the bounded stall lives.
 * <p>
 * A session queues behind a watched backend when it waits for a lock and {@code pg_blocking_pids()} lists the
 * watched backend: behind the lock the watched backend waits for (PostgreSQL queues a later conflicting request
 * behind it), or behind one it already holds.
 */
final class QueuedSessions {

    /** A watched backend that waits for a lock, and how many sessions queue behind it now. */
    record Wait(int pid, long backendStartMicros, Long waitStartMicros, String waitingFor, int queued) {

        /** Identifies this very wait: the same connection waiting since the same moment. */
        String key() {
            return pid + "@" + backendStartMicros + "/" + waitStartMicros;
        }
    }

    /*
     * Needs pg_blocking_pids() (9.6), pg_stat_get_activity(pid) and pg_locks.waitstart (14).
     *
     * Cost: while no watched backend waits for a lock (most polls), only pg_stat_get_activity() of the watched
     * backends runs (it sees their wait events: they are the watcher's own role). While one waits, the lock table
     * is read once, and pg_blocking_pids() runs for each backend that waits for a lock, not for every backend.
     * The waiting sessions are taken from pg_locks rather than from pg_stat_activity.wait_event_type, which
     * PostgreSQL hides for sessions of other roles unless the watcher's role has pg_read_all_stats: the
     * application's sessions often belong to another role than the migration's.
     */
    private static final String FIND_SQL = """
            WITH watched AS MATERIALIZED (
                SELECT w.pid, (extract(epoch FROM a.backend_start) * 1000000)::bigint AS backend_start_us
                FROM unnest(?::int[]) AS w(pid)
                CROSS JOIN LATERAL pg_stat_get_activity(w.pid) AS a
                WHERE a.wait_event_type = 'Lock'
            ),
            locks AS MATERIALIZED (
                SELECT l.pid, l.locktype, l.database, l.relation, l.waitstart
                FROM pg_locks l
                WHERE NOT l.granted AND l.pid IS NOT NULL AND EXISTS (SELECT 1 FROM watched)
            ),
            queued AS (
                SELECT b.pid AS watched_pid, count(DISTINCT q.pid) AS sessions
                FROM (SELECT DISTINCT pid FROM locks WHERE pid <> ALL (?::int[])) q
                CROSS JOIN LATERAL unnest(pg_blocking_pids(q.pid)) AS b(pid)
                WHERE b.pid IN (SELECT pid FROM watched)
                GROUP BY b.pid
            )
            SELECT w.pid, w.backend_start_us,
                   (SELECT (extract(epoch FROM min(l.waitstart)) * 1000000)::bigint
                    FROM locks l WHERE l.pid = w.pid) AS wait_start_us,
                   (SELECT coalesce(
                        CASE WHEN l.locktype = 'relation'
                              AND l.database = (SELECT oid FROM pg_database WHERE datname = current_database()) THEN
                            (SELECT format('%I.%I', n.nspname, c.relname)
                             FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace WHERE c.oid = l.relation)
                        END, l.locktype)
                    FROM locks l WHERE l.pid = w.pid LIMIT 1) AS waiting_for,
                   coalesce(q.sessions, 0) AS queued
            FROM watched w
            LEFT JOIN queued q ON q.watched_pid = w.pid
            ORDER BY w.pid
            """;

    /*
     * One statement that checks, at the moment it signals, that the backend is the same connection (pid and
     * backend start: pids are reused), that it still waits for a lock, that it is the same wait (the same wait
     * start, when one is given), and, unless told otherwise, that some other session still queues behind it; only
     * then does it cancel the backend's statement. A wait that queues nobody is never cancelled this way.
     */
    private static final String CANCEL_SQL = """
            WITH target AS MATERIALIZED (
                SELECT a.pid
                FROM pg_stat_get_activity(?) AS a
                WHERE (extract(epoch FROM a.backend_start) * 1000000)::bigint = ?
                  AND a.wait_event_type = 'Lock'
            ),
            locks AS MATERIALIZED (
                SELECT l.pid, l.waitstart
                FROM pg_locks l
                WHERE NOT l.granted AND l.pid IS NOT NULL AND EXISTS (SELECT 1 FROM target)
            )
            SELECT pg_cancel_backend(t.pid)
            FROM target t
            WHERE EXISTS (SELECT 1 FROM locks w
                          WHERE w.pid = t.pid
                            AND (?::bigint IS NULL
                                 OR (extract(epoch FROM w.waitstart) * 1000000)::bigint = ?::bigint))
              AND (NOT ?::boolean
                   OR EXISTS (SELECT 1 FROM locks q
                              WHERE q.pid <> t.pid AND q.pid <> ALL (?::int[])
                                AND t.pid = ANY (pg_blocking_pids(q.pid))))
            """;

    private QueuedSessions() {
    }

    /**
     * The watched backends that wait for a lock now, each with the number of sessions queued behind it.
     * @param watchedPids the watched backends
     * @param notApplication backends that are never counted as queued: the watched ones and every connection of
     *        the same run
     */
    static List<Wait> find(Connection connection, Collection<Integer> watchedPids, Collection<Integer> notApplication)
            throws SQLException {
        List<Wait> waits = new ArrayList<>();
        if (watchedPids.isEmpty()) {
            return waits;
        }
        Array pids = connection.createArrayOf("int4", watchedPids.toArray());
        Array excluded = connection.createArrayOf("int4", notApplication.toArray());
        try (PreparedStatement statement = connection.prepareStatement(FIND_SQL)) {
            statement.setArray(1, pids);
            statement.setArray(2, excluded);
            try (ResultSet rows = statement.executeQuery()) {
                while (rows.next()) {
                    long waitStart = rows.getLong("wait_start_us");
                    Long waitStartMicros = rows.wasNull() ? null : waitStart;
                    waits.add(new Wait(rows.getInt("pid"), rows.getLong("backend_start_us"), waitStartMicros,
                            rows.getString("waiting_for"), rows.getInt("queued")));
                }
            }
        }
        finally {
            pids.free();
            excluded.free();
        }
        return waits;
    }

    /**
     * Cancels the wait if, at this moment, it is still the same wait of the same connection and, when
     * {@code onlyIfQueued}, some session other than {@code notApplication} still queues behind it.
     * @return whether the cancel was sent
     */
    static boolean cancel(Connection connection, Wait wait, boolean onlyIfQueued, Collection<Integer> notApplication)
            throws SQLException {
        Array excluded = connection.createArrayOf("int4", notApplication.toArray());
        try (PreparedStatement statement = connection.prepareStatement(CANCEL_SQL)) {
            statement.setInt(1, wait.pid());
            statement.setLong(2, wait.backendStartMicros());
            if (wait.waitStartMicros() == null) {
                statement.setNull(3, Types.BIGINT);
                statement.setNull(4, Types.BIGINT);
            }
            else {
                statement.setLong(3, wait.waitStartMicros());
                statement.setLong(4, wait.waitStartMicros());
            }
            statement.setBoolean(5, onlyIfQueued);
            statement.setArray(6, excluded);
            try (ResultSet rows = statement.executeQuery()) {
                return rows.next() && rows.getBoolean(1);
            }
        }
        finally {
            excluded.free();
        }
    }
}
