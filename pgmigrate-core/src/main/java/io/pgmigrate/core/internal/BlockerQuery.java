package io.pgmigrate.core.internal;

import java.sql.Array;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Collection;
import java.util.List;

import io.pgmigrate.core.Blocker;

/**
 * Asks PostgreSQL which sessions block the watched backends. The one place where that SQL lives.
 */
final class BlockerQuery {

    /*
     * Needs pg_blocking_pids() (9.6). The first statement of every poll: which watched backends have a blocker
     * other than this connection (a CREATE INDEX CONCURRENTLY that starts to wait while a poll runs waits for it
     * too). Most polls find none, and then this is all a poll costs: a statement so small that planning it
     * costs next to nothing, where the full query below takes about a millisecond and a half of the server's
     * CPU to plan and run, 40 times a second at the default interval.
     */
    private static final String BLOCKED_SQL = """
            SELECT w.pid
            FROM unnest(?::int[]) AS w(pid)
            WHERE EXISTS (SELECT 1 FROM unnest(pg_blocking_pids(w.pid)) AS b(pid) WHERE b.pid <> pg_backend_pid())
            """;

    /*
     * Needs pg_blocking_pids() (PostgreSQL 9.6), pg_stat_get_activity(pid), MATERIALIZED CTEs (12),
     * pg_locks.waitstart (14) and numeric extract(epoch) (14), so timestamps survive a round trip as exact
     * microseconds.
     *
     * pg_blocking_pids() lists hard blockers (they hold a conflicting lock) and soft blockers (they
     * wait for a conflicting lock ahead of the watched backend); it never lists the blockers of those
     * blockers. It reports a prepared transaction as pid 0: such a row is matched to pg_prepared_xacts
     * through the locks the prepared transaction holds on the object the watched backend waits for.
     *
     * Who the blocker is: pg_stat_activity's backend_type tells a client session from a PostgreSQL process, but
     * it is hidden from a role without pg_read_all_stats for other roles' sessions. Then what every role may
     * see decides: a backend without a role is a PostgreSQL process (autovacuum, a background process), and
     * pg_stat_get_wal_senders() and pg_stat_get_subscription() list walsenders and logical replication
     * workers to every role. Whether it runs under the same role as the backend it blocks is read from the
     * role ids, which every role may see.
     *
     * Cost: it runs only for the watched backends that BLOCKED_SQL found blocked; the lock table is read once;
     * pg_stat_get_activity(pid) reads the activity of the blockers alone, not of every backend.
     */
    private static final String SQL = """
            WITH watched AS MATERIALIZED (
                SELECT DISTINCT w.pid AS blocked_pid, b.pid
                FROM unnest(?::int[]) AS w(pid)
                CROSS JOIN LATERAL unnest(pg_blocking_pids(w.pid)) AS b(pid)
            ),
            locks AS MATERIALIZED (
                SELECT l.locktype, l.database, l.relation, l.page, l.tuple, l.virtualxid, l.transactionid,
                       l.classid, l.objid, l.objsubid, l.virtualtransaction, l.pid, l.mode, l.granted, l.waitstart
                FROM pg_locks l
                WHERE EXISTS (SELECT 1 FROM watched)
                  AND (l.pid IS NULL
                       OR l.pid IN (SELECT blocked_pid FROM watched)
                       OR l.pid IN (SELECT pid FROM watched))
            ),
            waits AS MATERIALIZED (
                SELECT l.*,
                       CASE WHEN l.locktype = 'relation' THEN
                           (SELECT format('%I.%I', n.nspname, c.relname)
                            FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
                            WHERE c.oid = l.relation
                              AND l.database = (SELECT oid FROM pg_database WHERE datname = current_database()))
                       END AS relation_name
                FROM locks l
                WHERE NOT l.granted AND l.pid IN (SELECT blocked_pid FROM watched)
            ),
            holders AS MATERIALIZED (
                SELECT wt.pid AS blocked_pid, l.pid, l.virtualtransaction, l.mode, l.granted
                FROM waits wt
                JOIN locks l
                  ON l.locktype = wt.locktype
                 AND l.database IS NOT DISTINCT FROM wt.database
                 AND l.relation IS NOT DISTINCT FROM wt.relation
                 AND l.page IS NOT DISTINCT FROM wt.page
                 AND l.tuple IS NOT DISTINCT FROM wt.tuple
                 AND l.virtualxid IS NOT DISTINCT FROM wt.virtualxid
                 AND l.transactionid IS NOT DISTINCT FROM wt.transactionid
                 AND l.classid IS NOT DISTINCT FROM wt.classid
                 AND l.objid IS NOT DISTINCT FROM wt.objid
                 AND l.objsubid IS NOT DISTINCT FROM wt.objsubid
                 AND l.pid IS DISTINCT FROM wt.pid
            ),
            held AS (
                SELECT h.blocked_pid, coalesce(h.pid, 0) AS pid, string_agg(DISTINCT h.mode, ',') AS modes,
                       bool_or(h.granted) AS granted
                FROM holders h
                GROUP BY h.blocked_pid, coalesce(h.pid, 0)
            ),
            found AS (
                SELECT wd.blocked_pid, wd.pid, pg_get_userbyid(a.usesysid)::text AS usename,
                       (SELECT d.datname::text FROM pg_database d WHERE d.oid = a.datid) AS datname,
                       a.application_name, host(a.client_addr) AS client_addr, a.state,
                       left(a.query, ?) AS query,
                       a.backend_start, a.xact_start,
                       coalesce(a.xact_start, a.state_change) AS held_since,
                       a.wait_event_type || ':' || a.wait_event AS wait_event,
                       NULL::text AS gid,
                       coalesce(a.backend_type, CASE
                           WHEN a.pid IS NOT NULL AND a.usesysid IS NULL THEN 'postgres process'
                           WHEN wd.pid IN (SELECT s.pid FROM pg_stat_get_wal_senders() s) THEN 'walsender'
                           WHEN wd.pid IN (SELECT s.pid FROM pg_stat_get_subscription(NULL) s)
                               THEN 'logical replication worker'
                       END) AS backend_type,
                       a.usesysid IS NOT NULL
                           AND a.usesysid = (SELECT m.usesysid FROM pg_stat_get_activity(wd.blocked_pid) m)
                           AS same_role
                FROM watched wd
                LEFT JOIN LATERAL pg_stat_get_activity(wd.pid) AS a ON true
                WHERE wd.pid <> 0
                  -- this very poll: a CREATE INDEX CONCURRENTLY that starts to wait while it runs waits for it too
                  AND wd.pid <> pg_backend_pid()
                UNION ALL
                SELECT DISTINCT wd.blocked_pid, 0, p.owner::text, p.database::text,
                       '', NULL::text, 'prepared', NULL::text,
                       NULL::timestamptz, NULL::timestamptz,
                       p.prepared, NULL::text,
                       p.gid, NULL::text, false
                FROM watched wd
                JOIN holders h ON h.blocked_pid = wd.blocked_pid AND h.pid IS NULL AND h.granted
                JOIN locks x ON x.virtualtransaction = h.virtualtransaction
                            AND x.locktype = 'transactionid' AND x.pid IS NULL
                JOIN pg_prepared_xacts p ON p.transaction = x.transactionid
                WHERE wd.pid = 0
            )
            SELECT f.blocked_pid, f.pid, f.usename, f.datname, f.application_name, f.client_addr, f.state,
                   f.query,
                   (extract(epoch FROM f.backend_start) * 1000000)::bigint AS backend_start_us,
                   (extract(epoch FROM f.xact_start) * 1000000)::bigint AS xact_start_us,
                   (extract(epoch FROM clock_timestamp() - f.held_since) * 1000000)::bigint AS age_us,
                   f.wait_event,
                   hd.modes,
                   coalesce(hd.granted, true) AS granted,
                   (SELECT coalesce(wt.relation_name, wt.locktype) FROM waits wt
                    WHERE wt.pid = f.blocked_pid LIMIT 1) AS locked_object,
                   (SELECT wt.locktype FROM waits wt WHERE wt.pid = f.blocked_pid LIMIT 1) AS wait_locktype,
                   (SELECT (extract(epoch FROM clock_timestamp() - min(wt.waitstart)) * 1000000)::bigint
                    FROM waits wt WHERE wt.pid = f.blocked_pid) AS blocked_for_us,
                   f.gid, f.backend_type, f.same_role
            FROM found f
            LEFT JOIN held hd ON hd.blocked_pid = f.blocked_pid AND hd.pid = f.pid
            ORDER BY f.blocked_pid, f.pid
            """;

    private final int maxQueryLength;
    /**
     * The check, kept prepared on the connection it was prepared on: it runs at every poll, and preparing it anew
     * each time would cost the watcher's thread more than the check costs the server. Watcher thread only.
     */
    private PreparedStatement check;
    /** The connection {@link #check} was prepared on. */
    private Connection checkConnection;

    BlockerQuery(int maxQueryLength) {
        this.maxQueryLength = maxQueryLength;
    }

    /**
     * The blockers of the given backends, as PostgreSQL reports them now: first which of them have a blocker at
     * all, then the full query for those alone ({@link #needsFullQuery}).
     */
    List<Blocker> find(Connection connection, Collection<Integer> watchedPids) throws SQLException {
        if (watchedPids.isEmpty()) {
            return new ArrayList<>();
        }
        List<Integer> blocked = blocked(connection, watchedPids);
        if (!needsFullQuery(blocked)) {
            return new ArrayList<>();
        }
        return describe(connection, blocked);
    }

    /**
     * Whether a poll must run the full blocker query: only when the first, cheap statement found a watched backend
     * with a blocker. Its blockers are described then, also when PostgreSQL no longer lists them by then: the full
     * query asks again, and the signal re-checks whatever it reports.
     */
    static boolean needsFullQuery(Collection<Integer> blockedPids) {
        return !blockedPids.isEmpty();
    }

    /** The watched backends that have a blocker now, other than the connection that asks. */
    List<Integer> blocked(Connection connection, Collection<Integer> watchedPids) throws SQLException {
        List<Integer> blocked = new ArrayList<>();
        if (check == null || checkConnection != connection || check.isClosed()) {
            close();
            check = Statements.prepare(connection, BLOCKED_SQL);
            checkConnection = connection;
        }
        Array pids = connection.createArrayOf("int4", watchedPids.toArray());
        try {
            check.setArray(1, pids);
            try (ResultSet rows = check.executeQuery()) {
                while (rows.next()) {
                    blocked.add(rows.getInt(1));
                }
            }
        }
        finally {
            pids.free();
        }
        return blocked;
    }

    /** Closes the check kept prepared; before its connection is closed or given back. */
    void close() {
        PreparedStatement current = check;
        check = null;
        checkConnection = null;
        if (current != null) {
            try {
                current.close();
            }
            catch (SQLException ex) {
                // its connection is broken or closed already: nothing is left to release
            }
        }
    }

    /** The full query: the blockers of the given backends, with everything a report and the screening need. */
    private List<Blocker> describe(Connection connection, Collection<Integer> watchedPids) throws SQLException {
        List<Blocker> blockers = new ArrayList<>();
        Array pids = connection.createArrayOf("int4", watchedPids.toArray());
        try (PreparedStatement statement = Statements.prepare(connection, SQL)) {
            statement.setArray(1, pids);
            statement.setInt(2, maxQueryLength);
            try (ResultSet rows = statement.executeQuery()) {
                while (rows.next()) {
                    blockers.add(blocker(rows));
                }
            }
        }
        finally {
            pids.free();
        }
        return blockers;
    }

    /**
     * Runs both statements once for no backend (pid 0 is none), so the first poll that finds a blocker pays neither
     * for their first parse nor for the first run of their code in this JVM.
     */
    void warmUp(Connection connection) throws SQLException {
        blocked(connection, List.of(0));
        describe(connection, List.of(0));
    }

    private static Blocker blocker(ResultSet rows) throws SQLException {
        String applicationName = rows.getString("application_name");
        return new Blocker(
                rows.getInt("pid"),
                rows.getInt("blocked_pid"),
                rows.getString("usename"),
                rows.getString("datname"),
                applicationName == null ? "" : applicationName,
                rows.getString("client_addr"),
                rows.getString("state"),
                rows.getString("query"),
                instant(rows, "backend_start_us"),
                instant(rows, "xact_start_us"),
                duration(rows, "age_us"),
                rows.getString("wait_event"),
                rows.getString("modes"),
                rows.getBoolean("granted"),
                rows.getString("locked_object"),
                duration(rows, "blocked_for_us"),
                rows.getString("gid"),
                rows.getString("backend_type"),
                rows.getString("wait_locktype"),
                rows.getBoolean("same_role"));
    }

    private static Instant instant(ResultSet rows, String column) throws SQLException {
        long micros = rows.getLong(column);
        return rows.wasNull() ? null : Instant.EPOCH.plusNanos(Math.multiplyExact(micros, 1000L));
    }

    private static Duration duration(ResultSet rows, String column) throws SQLException {
        long micros = rows.getLong(column);
        return rows.wasNull() ? null : Duration.ofNanos(Math.multiplyExact(micros, 1000L));
    }

    /** Microseconds since the epoch, as the server compares them; {@code null} stays {@code null}. */
    static Long micros(Instant instant) {
        return instant == null ? null : Math.addExact(Math.multiplyExact(instant.getEpochSecond(), 1_000_000L),
                instant.getNano() / 1000L);
    }
}
