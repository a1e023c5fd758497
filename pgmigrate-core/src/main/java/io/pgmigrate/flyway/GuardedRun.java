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
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Consumer;
import java.util.function.Function;

import io.pgmigrate.core.Blocker;
import io.pgmigrate.core.BlockerOutcome;
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
        private final Map<String, Blocker> blockers = new LinkedHashMap<>();
        private Duration lockWait = Duration.ZERO;

        Migration(String name, int pid, boolean inTransaction) {
            this.name = name;
            this.pid = pid;
            this.inTransaction = inTransaction;
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
    }

    private final GuardListener listener;
    private final Watcher watcher;
    private final Set<Integer> connectionPids = ConcurrentHashMap.newKeySet();
    private final List<Integer> migrationPids = new CopyOnWriteArrayList<>();
    private final List<BlockerReport> reports = new CopyOnWriteArrayList<>();
    private final AtomicInteger applied = new AtomicInteger();
    private final AtomicBoolean ownConnectionWarned = new AtomicBoolean();
    private volatile Migration running;
    private volatile Migration failed;

    /**
     * @param watcherFactory builds the run's watcher around the listener it must report to (this run)
     */
    GuardedRun(GuardListener listener, Function<WatchListener, Watcher> watcherFactory) {
        this.listener = listener;
        this.watcher = watcherFactory.apply(WatchListener.of(List.of(this, listener)));
    }

    Watcher watcher() {
        return watcher;
    }

    /** A connection Flyway opened for this run: it must never be acted on. */
    void connectionOpened(int pid) {
        connectionPids.add(pid);
        watcher.protect(pid);
    }

    /** Forgets the failure of the previous attempt. */
    void attemptStarting() {
        failed = null;
    }

    /** BEFORE_EACH_MIGRATE, on the migration connection, inside the migration's transaction if it has one. */
    void migrationStarting(Connection connection, MigrationInfo info) throws SQLException {
        int pid = backendPid(connection);
        Migration migration = new Migration(name(info), pid, !connection.getAutoCommit());
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
        for (Blocker blocker : blockers) {
            if (blocker.blockedPid() == migration.pid) {
                migration.saw(blocker);
            }
        }
    }

    @Override
    public void blockerHandled(BlockerReport report) {
        reports.add(report);
        if (report.outcome() == BlockerOutcome.PROTECTED && ownConnection(report.blocker())
                && ownConnectionWarned.compareAndSet(false, true)) {
            Migration migration = running;
            String name = migration != null && migration.pid == report.blocker().blockedPid() ? migration.name
                    : report.blockedWork();
            log.atWarn()
                .addKeyValue("migration", name)
                .addKeyValue("pid", report.blocker().pid())
                .log("pgmigrate: migration {} waits for another connection of the same Flyway run, which pgmigrate "
                        + "never ends; with Flyway's transactional advisory lock a concurrent index build waits for "
                        + "it forever: set flyway.postgresql.transactional.lock=false "
                        + "(spring.flyway.postgresql.transactional-lock=false): migration=\"{}\" pid={}",
                        name, name, report.blocker().pid());
        }
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

    /** {@code 2 (add email)} for a versioned migration, {@code repeatable (views)} for a repeatable one. */
    static String name(MigrationInfo info) {
        if (info == null) {
            return "unknown";
        }
        String description = info.getDescription() == null ? "" : info.getDescription();
        return (info.getVersion() == null ? "repeatable" : info.getVersion().getVersion()) + " (" + description + ")";
    }

    private static int backendPid(Connection connection) throws SQLException {
        if (connection instanceof GuardedDataSource.GuardedConnection guarded) {
            return guarded.backendPid();
        }
        // Flyway handed out a connection it wrapped itself; asking is harmless inside the migration's transaction
        try (Statement statement = connection.createStatement();
                ResultSet rows = statement.executeQuery("SELECT pg_backend_pid()")) {
            rows.next();
            return rows.getInt(1);
        }
    }
}
