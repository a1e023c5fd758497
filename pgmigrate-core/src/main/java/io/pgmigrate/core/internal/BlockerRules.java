package io.pgmigrate.core.internal;

import java.sql.Array;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.util.Collection;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

import io.pgmigrate.core.Blocker;
import io.pgmigrate.core.BlockerOutcome;
import io.pgmigrate.core.WatchSettings;

/**
 * Decides who may be acted on, and sends the signals. Everything that stands between a blocker and
 * {@code pg_terminate_backend} is in this file.
 * <p>
 * Two gates: {@link #screen} sorts the blockers of a poll before the action sees them; {@link #signal} repeats
 * the safety checks inside the very statement that sends the signal, so a decision is never made on stale data.
 * <p>
 * Never signalled, whatever the action or the settings: prepared transactions (no session), the connections of
 * the migration run and the watcher, PostgreSQL's own processes (autovacuum, walsenders, logical replication and
 * other background workers; parallel workers are never reported, their leader is), and pgmigrate sessions
 * ({@code application_name} starting with {@code pgmigrate-}) of the migration's own role: a name alone proves
 * nothing, since any role may take it. Left alone by default: sessions the migration waits for only through a
 * snapshot (no application query queues behind such a wait), excluded application names (backups: pg_dump) and
 * roles, and sessions younger than the minimum duration.
 */
final class BlockerRules {

    /**
     * Sessions whose application_name starts with this, under the role of the backend they block, belong to
     * pgmigrate (another instance migrating) and are never signalled.
     */
    static final String PROTECTED_PREFIX = "pgmigrate-";

    /** Why a blocker is kept from the action. */
    record Verdict(BlockerOutcome outcome, String detail) {
    }

    /** Terminate or cancel. */
    enum Signal {
        TERMINATE(BlockerOutcome.TERMINATED, signalSql("pg_terminate_backend")),
        CANCEL(BlockerOutcome.CANCELED, signalSql("pg_cancel_backend"));

        final BlockerOutcome outcome;
        final String sql;

        Signal(BlockerOutcome outcome, String sql) {
            this.outcome = outcome;
            this.sql = sql;
        }
    }

    /** What the signal statement reported for one blocker. */
    record SignalResult(BlockerOutcome outcome, String detail) {
    }

    /*
     * Needs pg_blocking_pids() (9.6), pg_stat_get_activity(pid), pg_has_role() and numeric extract(epoch)
     * (14). A row is signalled only if, at the start of this statement: the session blocks the watched
     * backend, it is the same connection (pid and backend start: pids are reused) in the same transaction
     * that was reported (the minimum duration was judged on that transaction), and it is none of: this
     * connection, a protected pid, a PostgreSQL process (as BlockerQuery tells them, also when backend_type is
     * hidden), a pgmigrate session of the blocked backend's role, a blocker the watched backend waits for only
     * through a snapshot (unless asked to act on those), an excluded name or role. pg_blocking_pids() runs once
     * per watched backend, not once per blocker, so a thousand blockers cost one look at the lock table.
     * The privilege test mirrors PostgreSQL's own rule for signalling a backend, so a session we may not
     * signal is reported instead of failing the whole statement.
     */
    private static String signalSql(String function) {
        return """
                WITH targets AS (
                    SELECT * FROM unnest(?::int[], ?::int[], ?::bigint[], ?::bigint[])
                         AS t(pid, blocked_pid, backend_start_us, xact_start_us)
                ),
                blocking AS MATERIALIZED (
                    SELECT w.blocked_pid, b.pid
                    FROM (SELECT DISTINCT blocked_pid FROM targets) w
                    CROSS JOIN LATERAL unnest(pg_blocking_pids(w.blocked_pid)) AS b(pid)
                ),
                me AS (SELECT rolsuper FROM pg_roles WHERE rolname = current_user)
                SELECT t.pid,
                       CASE
                         WHEN NOT ((SELECT rolsuper FROM me) OR (NOT coalesce(r.rolsuper, true)
                                   AND (pg_has_role(a.usesysid, 'USAGE') OR pg_has_role('pg_signal_backend', 'USAGE'))))
                           THEN CASE WHEN coalesce(r.rolsuper, true) THEN 'superuser' ELSE 'privilege' END
                         WHEN %s(t.pid) THEN 'signalled'
                         ELSE 'gone'
                       END AS result,
                       current_user AS signaller
                FROM targets t
                CROSS JOIN LATERAL pg_stat_get_activity(t.pid) AS a
                LEFT JOIN pg_roles r ON r.oid = a.usesysid
                WHERE EXISTS (SELECT 1 FROM blocking b WHERE b.blocked_pid = t.blocked_pid AND b.pid = t.pid)
                  AND (extract(epoch FROM a.backend_start) * 1000000)::bigint IS NOT DISTINCT FROM t.backend_start_us
                  AND (extract(epoch FROM a.xact_start) * 1000000)::bigint IS NOT DISTINCT FROM t.xact_start_us
                  AND t.pid <> pg_backend_pid()
                  AND t.pid <> ALL (?::int[])
                  AND a.usesysid IS NOT NULL
                  AND coalesce(a.backend_type, 'client backend') = 'client backend'
                  AND t.pid NOT IN (SELECT s.pid FROM pg_stat_get_wal_senders() s WHERE s.pid IS NOT NULL)
                  AND t.pid NOT IN (SELECT s.pid FROM pg_stat_get_subscription(NULL) s WHERE s.pid IS NOT NULL)
                  AND NOT (left(coalesce(a.application_name, ''), 10) = 'pgmigrate-'
                           AND a.usesysid IS NOT DISTINCT FROM
                               (SELECT m.usesysid FROM pg_stat_get_activity(t.blocked_pid) m))
                  AND coalesce(a.application_name, '') <> ALL (?::text[])
                  AND coalesce(pg_get_userbyid(a.usesysid)::text, '') <> ALL (?::text[])
                  AND (? OR NOT EXISTS (SELECT 1 FROM pg_locks l
                                        WHERE l.pid = t.blocked_pid AND NOT l.granted AND l.locktype = 'virtualxid'))
                """.formatted(function);
    }

    private final WatchSettings settings;
    /** The excluded names as PostgreSQL shows them in pg_stat_activity. */
    private final Set<String> excludedApplicationNames;
    private final Set<String> excludedUsers;

    BlockerRules(WatchSettings settings) {
        this.settings = settings;
        this.excludedApplicationNames = SessionNames.applicationNames(settings.excludedApplicationNames());
        this.excludedUsers = SessionNames.roles(settings.excludedUsers());
    }

    /** The excluded roles as PostgreSQL names them. */
    Set<String> excludedUsers() {
        return excludedUsers;
    }

    /**
     * Sorts out the blockers the action must not see. Returns {@code null} when the action may have it.
     * @param protectedPids the watched backends and every connection of the same migration run
     */
    Verdict screen(Blocker blocker, Set<Integer> protectedPids) {
        if (blocker.isPreparedTransaction()) {
            return new Verdict(BlockerOutcome.UNENDABLE, "prepared transaction gid=" + blocker.preparedTransaction()
                    + " holds the lock and has no session to end; only COMMIT PREPARED or ROLLBACK PREPARED releases it");
        }
        if (protectedPids.contains(blocker.pid())) {
            return new Verdict(BlockerOutcome.PROTECTED, "a connection of this migration run; it is never signalled");
        }
        if (blocker.isSystemProcess()) {
            return new Verdict(BlockerOutcome.SYSTEM_PROCESS, systemProcess(blocker));
        }
        if (blocker.isSnapshotWait() && !settings.actOnSnapshotWaits()) {
            return new Verdict(BlockerOutcome.SNAPSHOT_WAIT, "the migration waits only for this transaction to end, "
                    + "as CREATE INDEX CONCURRENTLY and its kin wait for every older transaction; no application "
                    + "query queues behind such a wait (act-on-snapshot-waits=true acts on it)");
        }
        if (blocker.applicationName().startsWith(PROTECTED_PREFIX) && blocker.sameRoleAsBlocked()) {
            return new Verdict(BlockerOutcome.PROTECTED, "a pgmigrate session of the migration's own role "
                    + "(application_name=" + blocker.applicationName() + "), such as another instance migrating; "
                    + "pgmigrate never signals its own kind");
        }
        if (excludedApplicationNames.contains(blocker.applicationName())) {
            return new Verdict(BlockerOutcome.EXCLUDED, "application_name=" + blocker.applicationName()
                    + " is excluded");
        }
        if (blocker.user() != null && excludedUsers.contains(blocker.user())) {
            return new Verdict(BlockerOutcome.EXCLUDED, "user=" + blocker.user() + " is excluded");
        }
        if (!settings.minDuration().isZero()) {
            if (blocker.age() == null) {
                return new Verdict(BlockerOutcome.TOO_YOUNG, "its age is hidden from the watcher's role "
                        + "(grant pg_read_all_stats), so min-duration cannot be checked");
            }
            if (blocker.age().compareTo(settings.minDuration()) < 0) {
                return new Verdict(BlockerOutcome.TOO_YOUNG, "younger than min-duration=" + settings.minDuration());
            }
        }
        return null;
    }

    /** Why a PostgreSQL process is left alone, by its kind. */
    private static String systemProcess(Blocker blocker) {
        String type = blocker.backendType();
        if (type.startsWith("autovacuum")) {
            if (blocker.query() != null && blocker.query().contains("to prevent wraparound")) {
                return "an autovacuum to prevent transaction ID wraparound; PostgreSQL itself never cancels it, "
                        + "and neither does pgmigrate: the migration waits until it ends";
            }
            return "an autovacuum; PostgreSQL cancels it itself once the migration has waited deadlock_timeout "
                    + "(1s by default), unless it runs to prevent wraparound";
        }
        if (type.equals("walsender")) {
            return "a walsender, which serves replication or a backup (pg_basebackup); pgmigrate never signals "
                    + "PostgreSQL's own processes";
        }
        return "a PostgreSQL process (backend_type=" + type + "), not a client session; pgmigrate never signals "
                + "PostgreSQL's own processes";
    }

    /**
     * Runs each signal statement once for no target, so the first real signal is not the statement's first parse
     * nor the first run of its code in this JVM. With no target the statement selects no row and sends nothing.
     */
    void warmUp(Connection connection) throws SQLException {
        for (Signal signal : Signal.values()) {
            send(connection, signal, List.of(), Set.of());
        }
    }

    /** Sends the signal to those blockers that, at this moment, still pass every check. */
    Map<Blocker, SignalResult> signal(Connection connection, Signal signal, Collection<Blocker> blockers,
            Set<Integer> protectedPids) throws SQLException {
        Map<Blocker, SignalResult> results = new HashMap<>();
        if (blockers.isEmpty()) {
            return results;
        }
        List<Blocker> targets = List.copyOf(blockers);
        Answers answers = send(connection, signal, targets, protectedPids);
        for (Blocker blocker : targets) {
            results.put(blocker, result(signal, answers.byPid().get(blocker.pid()), answers.signaller()));
        }
        return results;
    }

    /** What the signal statement answered: by pid, and the role that sent the signals. */
    private record Answers(Map<Integer, String> byPid, String signaller) {
    }

    /** Runs the signal statement for the targets: each is signalled only if it passes every check in it. */
    private Answers send(Connection connection, Signal signal, List<Blocker> targets, Set<Integer> protectedPids)
            throws SQLException {
        Object[] pids = new Object[targets.size()];
        Object[] blockedPids = new Object[targets.size()];
        Object[] backendStarts = new Object[targets.size()];
        Object[] transactionStarts = new Object[targets.size()];
        for (int i = 0; i < targets.size(); i++) {
            Blocker blocker = targets.get(i);
            pids[i] = blocker.pid();
            blockedPids[i] = blocker.blockedPid();
            backendStarts[i] = BlockerQuery.micros(blocker.backendStart());
            transactionStarts[i] = BlockerQuery.micros(blocker.transactionStart());
        }
        Map<Integer, String> answers = new HashMap<>();
        String signaller = null;
        List<Array> arrays = List.of(connection.createArrayOf("int4", pids),
                connection.createArrayOf("int4", blockedPids), connection.createArrayOf("int8", backendStarts),
                connection.createArrayOf("int8", transactionStarts),
                connection.createArrayOf("int4", protectedPids.toArray()),
                connection.createArrayOf("text", excludedApplicationNames.toArray()),
                connection.createArrayOf("text", excludedUsers.toArray()));
        try (PreparedStatement statement = Statements.prepare(connection, signal.sql)) {
            for (int i = 0; i < arrays.size(); i++) {
                statement.setArray(i + 1, arrays.get(i));
            }
            statement.setBoolean(arrays.size() + 1, settings.actOnSnapshotWaits());
            try (ResultSet rows = statement.executeQuery()) {
                while (rows.next()) {
                    answers.put(rows.getInt(1), rows.getString(2));
                    signaller = rows.getString(3);
                }
            }
        }
        finally {
            for (Array array : arrays) {
                array.free();
            }
        }
        return new Answers(answers, signaller);
    }

    private static SignalResult result(Signal signal, String answer, String signaller) {
        if (answer == null) {
            return new SignalResult(BlockerOutcome.GONE, "no longer blocked the migration, or its transaction "
                    + "changed, when the signal was to be sent; nothing was sent");
        }
        return switch (answer) {
            case "signalled" -> new SignalResult(signal.outcome, "");
            case "superuser" -> new SignalResult(BlockerOutcome.NOT_PERMITTED,
                    "it belongs to a superuser (or has no role): only a superuser may signal it");
            case "privilege" -> new SignalResult(BlockerOutcome.NOT_PERMITTED,
                    "role " + signaller + " may not signal it: GRANT pg_signal_backend TO " + signaller
                            + ", or make " + signaller + " a member of the blocker's role");
            default -> new SignalResult(BlockerOutcome.GONE, "it ended before the signal arrived");
        };
    }
}
