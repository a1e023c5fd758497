package io.pgmigrate.flyway;

import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Consumer;
import java.util.function.Function;

import io.pgmigrate.core.Blocker;
import io.pgmigrate.core.BlockerReport;
import io.pgmigrate.core.WatchListener;
import io.pgmigrate.core.Watcher;
import org.flywaydb.core.api.MigrationInfo;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * What one {@link FlywayGuard#migrate} call knows while it runs, over all its attempts: the connections of
 * the run, the migration running now and the blockers the watcher saw for it. Flyway runs one migration at a
 * time per run; the watcher's thread reads what the migrating thread writes.
 */
final class GuardedRun implements WatchListener {

    private static final Logger log = LoggerFactory.getLogger("io.pgmigrate");

    /** One migration while it runs, and after it failed. */
    static final class Migration {

        final String name;
        final int pid;
        final boolean inTransaction;
        /** The invalid indexes before a non-transactional migration started; {@code null} when not known. */
        final Set<Long> invalidIndexesBefore;
        private final Map<String, Blocker> blockers = new LinkedHashMap<>();
        private Duration lockWait = Duration.ZERO;
        private boolean selfBlocked;

        Migration(String name, int pid, boolean inTransaction, Set<Long> invalidIndexesBefore) {
            this.name = name;
            this.pid = pid;
            this.inTransaction = inTransaction;
            this.invalidIndexesBefore = invalidIndexesBefore;
        }

        synchronized void saw(Blocker blocker) {
            blockers.put(blocker.key(), blocker);
            if (blocker.blockedFor() != null && blocker.blockedFor().compareTo(lockWait) > 0) {
                lockWait = blocker.blockedFor();
            }
        }

        synchronized List<Blocker> blockers() {
            return List.copyOf(blockers.values());
        }

        synchronized Duration lockWait() {
            return lockWait;
        }

        /** Whether it was seen waiting for a connection of its own run. */
        synchronized boolean selfBlocked() {
            return selfBlocked;
        }

        synchronized void selfBlocked(boolean value) {
            selfBlocked = value;
        }
    }

    private final GuardListener listener;
    private final Duration lockTimeout;
    private final Watcher watcher;
    private final Set<Integer> connectionPids = ConcurrentHashMap.newKeySet();
    private final List<Integer> migrationPids = new CopyOnWriteArrayList<>();
    private final List<BlockerReport> reports = new CopyOnWriteArrayList<>();
    private final AtomicInteger applied = new AtomicInteger();
    /** The migrations already reported waiting for a connection of this run: one ERROR line each. */
    private final Set<String> selfBlockedReported = ConcurrentHashMap.newKeySet();
    private volatile Migration running;
    private volatile Migration failed;

    /**
     * @param lockTimeout the lock timeout of the migration statements, {@code null} when none is set
     * @param watcherFactory builds the run's watcher around the listener it must report to (this run)
     */
    GuardedRun(GuardListener listener, Duration lockTimeout, Function<WatchListener, Watcher> watcherFactory) {
        this.listener = listener;
        this.lockTimeout = lockTimeout;
        this.watcher = watcherFactory.apply(WatchListener.of(List.of(this, listener)));
    }

    Watcher watcher() {
        return watcher;
    }

    /** A connection Flyway opened for this run: it must never be acted on while Flyway has it. */
    void connectionOpened(int pid) {
        connectionPids.add(pid);
        watcher.protect(pid);
    }

    /**
     * Flyway closed a connection of this run (returned it to its pool): from now on it is no longer the run's. An
     * application session that borrows it, or a new backend that reuses its pid, is a blocker like any other.
     */
    void connectionClosed(int pid) {
        connectionPids.remove(pid);
        watcher.unprotect(pid);
    }

    /** Forgets the failure of the previous attempt. */
    void attemptStarting() {
        failed = null;
    }

    /** BEFORE_EACH_MIGRATE, on the migration connection, inside the migration's transaction if it has one. */
    void migrationStarting(Connection connection, MigrationInfo info) throws SQLException {
        int pid = backendPid(connection);
        if (connection instanceof GuardedDataSource.GuardedConnection guarded && guarded.backendPid() != pid) {
            // a transaction pooler gave the migration another server connection than the one prepared at connect
            throw new UnpinnedConnectionException(name(info), guarded.backendPid(), pid);
        }
        boolean inTransaction = !connection.getAutoCommit();
        Migration migration = new Migration(name(info), pid, inTransaction,
                inTransaction ? null : invalidIndexes(connection, name(info)));
        running = migration;
        if (!migrationPids.contains(pid)) {
            migrationPids.add(pid);
            log.atInfo().addKeyValue("pid", pid).log("pgmigrate: migrating as PostgreSQL backend pid {}", pid);
        }
        connectionOpened(pid);
        watcher.watch(pid, "migration " + migration.name);
        notify((l) -> l.migrationStarted(pid, migration.name));
    }

    /** AFTER_EACH_MIGRATE or AFTER_EACH_MIGRATE_ERROR; no SQL: after an error the transaction is aborted. */
    void migrationEnded(boolean success) {
        Migration migration = running;
        if (migration == null) {
            return;
        }
        running = null;
        watcher.unwatch(migration.pid);
        if (success) {
            applied.incrementAndGet();
        }
        else {
            failed = migration;
        }
        notify((l) -> l.migrationFinished(migration.name, success, migration.lockWait()));
    }

    /** The migration that failed in the current attempt, {@code null} if none did. */
    Migration failed() {
        return failed;
    }

    /** Whether a blocker is a connection of this very run (Flyway's own main connection, for example). */
    boolean ownConnection(Blocker blocker) {
        return connectionPids.contains(blocker.pid());
    }

    int applied() {
        return applied.get();
    }

    List<Integer> migrationPids() {
        return List.copyOf(migrationPids);
    }

    List<BlockerReport> reports() {
        return new ArrayList<>(reports);
    }

    @Override
    public void blockersDetected(List<Blocker> blockers) {
        Migration migration = running;
        if (migration == null) {
            return;
        }
        Blocker self = null;
        for (Blocker blocker : blockers) {
            if (blocker.blockedPid() == migration.pid) {
                migration.saw(blocker);
                if (self == null && ownConnection(blocker)
                        && FlywayGuard.APPLICATION_NAME.equals(blocker.applicationName())) {
                    self = blocker;
                }
            }
        }
        if (self != null) {
            migration.selfBlocked(true);
            if (selfBlockedReported.add(migration.name)) {
                selfBlocked(new SelfBlockedEvent(migration.name, self, lockTimeout));
            }
        }
    }

    /** One ERROR line per migration: the fact, the cause in one sentence, the fix, then the details. */
    private void selfBlocked(SelfBlockedEvent event) {
        Blocker blocker = event.blocker();
        String ending = event.lockTimeout() == null
                ? "No lock timeout is set, so it waits until it is cancelled, for example with "
                        + "SELECT pg_cancel_backend(" + blocker.blockedPid() + ")"
                : "It fails when the lock timeout of " + BlockerText.lockTimeout(event.lockTimeout()) + " runs out";
        log.atError()
            .addKeyValue("migration", event.migration())
            .addKeyValue("pid", blocker.pid())
            .addKeyValue("migration_pid", blocker.blockedPid())
            .addKeyValue("state", String.valueOf(blocker.state()))
            .addKeyValue("lock_timeout", lockTimeoutValue(event.lockTimeout()))
            .log("pgmigrate: Migration {} waits for Flyway's own connection and cannot finish. " + SelfBlock.CAUSE
                    + " Fix: " + SelfBlock.FIX + " " + ending + ": migration=\"{}\" pid={} migration_pid={} "
                    + "state=\"{}\" lock_timeout={}",
                    event.migration(), event.migration(), blocker.pid(), blocker.blockedPid(), blocker.state(),
                    lockTimeoutValue(event.lockTimeout()));
        notify((l) -> l.selfBlocked(event));
    }

    private static String lockTimeoutValue(Duration lockTimeout) {
        return lockTimeout == null ? "none" : BlockerText.lockTimeout(lockTimeout);
    }

    @Override
    public void blockerHandled(BlockerReport report) {
        reports.add(report);
    }

    /** Passes a run event to the user's listener; its failure must not fail the migration. */
    void notify(Consumer<GuardListener> event) {
        try {
            event.accept(listener);
        }
        catch (RuntimeException ex) {
            log.warn("pgmigrate: listener {} failed; the migration goes on", listener, ex);
        }
    }

    /**
     * The invalid indexes before a non-transactional migration, asked on its own connection (autocommit, so the
     * query is a transaction of its own); {@code null}, after a WARN line, when PostgreSQL did not answer.
     */
    private static Set<Long> invalidIndexes(Connection connection, String migration) {
        try {
            return InvalidIndexes.oids(connection);
        }
        catch (SQLException ex) {
            log.atWarn()
                .addKeyValue("migration", migration)
                .addKeyValue("error", String.valueOf(ex.getMessage()))
                .log("pgmigrate: could not list the invalid indexes before a non-transactional migration; if it "
                        + "fails, check pg_index.indisvalid yourself: migration=\"{}\" error={}", migration,
                        ex.getMessage());
            return null;
        }
    }

    /** {@code 2 (add email)} for a versioned migration, {@code repeatable (views)} for a repeatable one. */
    static String name(MigrationInfo info) {
        if (info == null) {
            return "unknown";
        }
        String description = info.getDescription() == null ? "" : info.getDescription();
        return (info.getVersion() == null ? "repeatable" : info.getVersion().getVersion()) + " (" + description + ")";
    }

    /**
     * The backend that runs the migration, asked again rather than taken from the connection's opening: behind a
     * transaction pooler they differ. Asking is harmless inside the migration's transaction.
     */
    private static int backendPid(Connection connection) throws SQLException {
        try (Statement statement = connection.createStatement();
                ResultSet rows = statement.executeQuery("SELECT pg_backend_pid()")) {
            rows.next();
            return rows.getInt(1);
        }
    }
}
