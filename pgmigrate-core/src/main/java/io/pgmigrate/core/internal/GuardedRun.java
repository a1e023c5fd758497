package io.pgmigrate.core.internal;

import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.BiFunction;
import java.util.function.Predicate;

import javax.sql.DataSource;

import io.pgmigrate.core.Blocker;
import io.pgmigrate.core.BlockerReport;
import io.pgmigrate.core.BlockingAction;
import io.pgmigrate.core.GuardListener;
import io.pgmigrate.core.LockTimeoutEvent;
import io.pgmigrate.core.MigrationRun;
import io.pgmigrate.core.SelfBlockedEvent;
import io.pgmigrate.core.WaitCancellation;
import io.pgmigrate.core.WatchSettings;
import org.jspecify.annotations.Nullable;
import org.slf4j.Logger;

/**
 * One guarded run of a migration tool, over all its attempts, whatever the tool: the connections the tool opened
 * (prepared through {@link #dataSource}, restored when it closes them, never acted on while it has them), the step
 * running now (a migration, or the callbacks of one event) and the blockers the watcher saw for it, the waits for
 * a connection of the run itself, and the complete record of the run ({@link #finish}). A tool runs one step at a
 * time, on one thread, so a step ends when the next one starts (or when its connection is closed). While a step
 * runs, every open connection of the run is watched under the step's name: the step's own connection, and any
 * other one its code opened through the tool's DataSource. The watcher's thread reads what the migrating thread
 * writes.
 * <p>
 * For migration-tool adapters ({@code io.pgmigrate.flyway.FlywayGuard}); applications use an adapter, not this.
 */
public final class GuardedRun implements GuardListener {

    /** The application_name of every connection a guarded run's tool opens. */
    public static final String APPLICATION_NAME = "pgmigrate-migration";

    /**
     * What the run's ERROR lines say when a step waits for a connection of its own run, in the tool's words.
     *
     * @param lockConnection the tool's connection that holds its lock, for example {@code Flyway's own connection}
     * @param cause why a step waits for it, in one sentence
     * @param fix what ends the problem
     * @param ownConnectionCause why a step waits for another connection of the run, in one sentence
     * @param ownConnectionFix what ends that
     */
    public record SelfBlockText(String lockConnection, String cause, String fix, String ownConnectionCause,
            String ownConnectionFix) {
    }


    private static final Logger log = LogLines.logger("io.pgmigrate");

    /** What made a step wait for a connection of its own run, which pgmigrate never ends. */
    enum SelfBlockKind {

        /**
         * Flyway's lock connection: the first one Flyway opened in the attempt (its main connection), which with
         * {@code postgresql.transactional.lock=true} holds Flyway's advisory lock in a transaction that stays
         * open for the whole run.
         */
        FLYWAY_LOCK,

        /**
         * Another connection of the run, for example one that a Java migration or callback opened through
         * Flyway's DataSource: the step waits for work of its own that cannot end before the step does.
         */
        OWN_CONNECTION
    }

    /** One step (a migration, or the callbacks of one event) while it runs, and after it failed. */
    public static final class Step {

        /** {@code 2 (add email)} for a migration, the event for callbacks: {@code afterMigrate}. */
        final String name;
        /** What the tool calls such a step: {@code migration}, {@code changeset}, {@code callback}. */
        final String kind;
        /** Whether the step is the callbacks of an event rather than a migration. */
        final boolean callback;
        final int pid;
        /** Whether it runs in a transaction; {@code false} for callbacks, whose transaction is not known. */
        final boolean inTransaction;
        /** The invalid indexes before a non-transactional migration started; {@code null} when not known. */
        final Set<Long> invalidIndexesBefore;
        private final Map<String, Blocker> blockers = new LinkedHashMap<>();
        private Duration lockWait = Duration.ZERO;
        private SelfBlockKind selfBlock;
        private Blocker selfBlocker;

        Step(String name, boolean callback, int pid, boolean inTransaction, Set<Long> invalidIndexesBefore) {
            this(callback ? "callback" : "migration", name, callback, pid, inTransaction, invalidIndexesBefore);
        }

        Step(String kind, String name, boolean callback, int pid, boolean inTransaction,
                Set<Long> invalidIndexesBefore) {
            this.kind = kind;
            this.name = name;
            this.callback = callback;
            this.pid = pid;
            this.inTransaction = inTransaction;
            this.invalidIndexesBefore = invalidIndexesBefore;
        }

        /** {@code 2 (add email)} for a migration, the event for callbacks: {@code afterMigrate}. */
        public String name() {
            return name;
        }

        /** Whether the step is the callbacks of an event rather than a migration. */
        public boolean callback() {
            return callback;
        }

        /** The backend that runs it. */
        public int pid() {
            return pid;
        }

        /** Whether it runs in a transaction; {@code false} for callbacks, whose transaction is not known. */
        public boolean inTransaction() {
            return inTransaction;
        }

        /** What reports say was blocked: {@code migration 2 (add email)}, {@code callback afterMigrate}. */
        public String work() {
            return kind + " " + name;
        }

        synchronized void saw(Blocker blocker) {
            blockers.put(blocker.key(), blocker);
            if (blocker.blockedFor() != null && blocker.blockedFor().compareTo(lockWait) > 0) {
                lockWait = blocker.blockedFor();
            }
        }

        public synchronized List<Blocker> blockers() {
            return List.copyOf(blockers.values());
        }

        public synchronized Duration lockWait() {
            return lockWait;
        }

        /** Whether it was seen waiting for Flyway's lock connection (Flyway's transactional advisory lock). */
        public synchronized boolean selfBlocked() {
            return selfBlock == SelfBlockKind.FLYWAY_LOCK;
        }

        /**
         * Whether it was seen waiting for another connection of its own run: a deadlock within the run that no
         * blocking action and no retry can resolve.
         */
        public synchronized boolean blockedByOwnConnection() {
            return selfBlock == SelfBlockKind.OWN_CONNECTION;
        }

        /** The connection of the run it waited for, {@code null} when it waited for none. */
        public synchronized @Nullable Blocker selfBlocker() {
            return selfBlocker;
        }

        /** Records the first wait for a connection of the run; Flyway's lock connection wins over another one. */
        synchronized boolean selfBlocked(SelfBlockKind kind, Blocker blocker) {
            if (selfBlock == null || (kind == SelfBlockKind.FLYWAY_LOCK && selfBlock != kind)) {
                selfBlock = kind;
                selfBlocker = blocker;
                return true;
            }
            return false;
        }
    }

    private final GuardListener events;
    private final SelfBlockText selfBlockText;
    private final Duration lockTimeout;
    private final Watcher watcher;
    private final Set<Integer> connectionPids = ConcurrentHashMap.newKeySet();
    private final List<Integer> migrationPids = new CopyOnWriteArrayList<>();
    private final List<BlockerReport> reports = new CopyOnWriteArrayList<>();
    private final List<String> migrations = new CopyOnWriteArrayList<>();
    private final List<SelfBlockedEvent> selfBlocks = new CopyOnWriteArrayList<>();
    private final List<LockTimeoutEvent> lockTimeouts = new CopyOnWriteArrayList<>();
    private final List<WaitCancellation> waitCancellations = new CopyOnWriteArrayList<>();
    private final AtomicInteger applied = new AtomicInteger();
    /** The steps already reported waiting for a connection of this run: one ERROR line each, per kind. */
    private final Set<String> selfBlockedReported = ConcurrentHashMap.newKeySet();
    /** The connections Flyway has open now: each is watched while a step runs. */
    private final Set<Integer> openPids = ConcurrentHashMap.newKeySet();
    /** The first connection Flyway opened in the current attempt: its main one, which holds its lock. */
    private volatile int lockConnectionPid;
    /** The step running now, {@code null} between steps (after its connection was closed). */
    private volatile Step running;
    /** The step that started last in the attempt, even if its connection is closed by now. */
    private volatile Step last;
    private volatile Step failed;

    /**
     * A run whose watcher is not started yet.
     * @param listener the application's listeners; the run builds its one fan-out once: the log, this run's
     *        record, then these, for the run's events and the watcher's
     * @param lockTimeout the lock timeout of the migration statements, {@code null} when none is set
     * @param selfBlockText what the ERROR lines about a wait for the run's own connections say
     * @param watcherDataSource where the watcher's own connection comes from
     * @param settings the watcher's settings
     * @param action what the watcher does with blockers
     */
    public GuardedRun(GuardListener listener, @Nullable Duration lockTimeout, SelfBlockText selfBlockText,
            DataSource watcherDataSource, WatchSettings settings, BlockingAction action) {
        // the one fan-out of the run: the watcher writes its log lines through it too, and adds none of its own
        this.events = GuardListener.of(List.of(new LoggingListener(), this, listener));
        this.lockTimeout = lockTimeout;
        this.selfBlockText = selfBlockText;
        this.watcher = new Watcher(watcherDataSource, settings, action, events);
    }

    /**
     * The DataSource the tool must migrate with: every connection it hands out is registered with this run and
     * prepared with the given session settings, which are put back when the tool closes it.
     * @param delegate the tool's own DataSource
     * @param session the settings of every connection, applied at session level
     * @param optional those of the settings that are left out where the server does not have them or refuses them
     */
    public DataSource dataSource(DataSource delegate, Map<String, String> session, Set<String> optional) {
        return new GuardedDataSource(delegate, session, optional, this);
    }

    /** Every listener of the run (the log, this run's record, the application's): built once, for all its events. */
    public GuardListener events() {
        return events;
    }

    public Watcher watcher() {
        return watcher;
    }

    /** A connection Flyway opened for this run: it must never be acted on while Flyway has it. */
    void connectionOpened(int pid) {
        connectionPids.add(pid);
        watcher.protect(pid);
        stepConnectionOpened(pid);
    }

    /**
     * A connection of the run is open: Flyway's first one in an attempt is its lock connection; while a step
     * runs, the connection is watched under the step's name (a Java migration may open it to do the step's work).
     */
    private void stepConnectionOpened(int pid) {
        if (openPids.add(pid) && openPids.size() == 1 && lockConnectionPid == 0) {
            lockConnectionPid = pid;
        }
        Step step = running;
        if (step != null) {
            watcher.watch(pid, step.work());
        }
    }

    /**
     * Flyway closed a connection of this run (returned it to its pool): from now on it is no longer the run's. An
     * application session that borrows it, or a new backend that reuses its pid, is a blocker like any other; it
     * is no longer watched either. When it ran the current step, the step is over and the other connections are
     * no longer watched.
     */
    void connectionClosed(int pid) {
        connectionPids.remove(pid);
        watcher.unprotect(pid);
        openPids.remove(pid);
        watcher.unwatch(pid);
        Step step = running;
        if (step != null && step.pid == pid) {
            running = null;
            openPids.forEach(watcher::unwatch);
        }
    }

    /** Forgets the failure and the connections of the previous attempt. */
    public void attemptStarting() {
        failed = null;
        running = null;
        last = null;
        lockConnectionPid = 0;
        openPids.forEach(watcher::unwatch);
        openPids.clear();
    }

    /**
     * A migration is about to run on the given connection, inside its transaction if it has one (Flyway's
     * BEFORE_EACH_MIGRATE).
     * @param name the migration, for example {@code 2 (add email)}
     * @param unpinned the adapter's failure for a connection that moved to another backend since it was prepared
     *        (a transaction pooler), given the pid at connect and the pid now; thrown, and the migration not started
     */
    public void migrationStarting(Connection connection, String name,
            BiFunction<Integer, Integer, ? extends RuntimeException> unpinned) throws SQLException {
        migrationStarting(connection, "migration", name, !connection.getAutoCommit(), unpinned);
    }

    /**
     * A migration step is about to run on the given connection, for a tool that says itself whether it runs the
     * step in a transaction (Liquibase's {@code runInTransaction}, known before it switches the connection's
     * autocommit mode).
     * @param kind what the tool calls the step, in reports: {@code changeset} names it
     *        {@code changeset 2-add-note::orders-team (db/changelog/orders.yaml)}
     * @param name the step, for example {@code 2-add-note::orders-team (db/changelog/orders.yaml)}
     * @param inTransaction whether the tool runs it in a transaction that PostgreSQL rolls back when it fails
     * @param unpinned as for {@link #migrationStarting(Connection, String, BiFunction)}
     */
    public void migrationStarting(Connection connection, String kind, String name, boolean inTransaction,
            BiFunction<Integer, Integer, ? extends RuntimeException> unpinned) throws SQLException {
        int pid = backendPid(connection);
        if (connection instanceof GuardedDataSource.GuardedConnection guarded && guarded.backendPid() != pid) {
            // a transaction pooler gave the migration another server connection than the one prepared at connect
            throw unpinned.apply(guarded.backendPid(), pid);
        }
        Step migration = new Step(kind, name, false, pid, inTransaction,
                inTransaction ? null : invalidIndexes(connection, name));
        if (!migrationPids.contains(pid)) {
            migrationPids.add(pid);
            log.atInfo().addKeyValue("pid", pid).log("pgmigrate: migrating as PostgreSQL backend pid {}", pid);
        }
        connectionOpened(pid);
        start(migration);
        if (!migrations.contains(name)) {
            migrations.add(name);
        }
        events.migrationStarted(pid, migration.name);
    }

    /**
     * The callbacks of an event are about to run on the given connection (Flyway's main, event or migration
     * connection). An error event means the step before it failed, unless a migration already said so.
     */
    public void callbackStarting(Connection connection, String event) throws SQLException {
        int pid = connection instanceof GuardedDataSource.GuardedConnection guarded ? guarded.backendPid()
                : backendPid(connection);
        Step previous = last;
        if (event.endsWith("Error") && failed == null && previous != null) {
            failed = previous;
        }
        connectionOpened(pid);
        start(new Step(event, true, pid, false, null));
    }

    /**
     * Makes a step the running one: every open connection of the run is watched under its name. The reports of a
     * signal the watcher is sending are written first: they are about the step before.
     */
    private void start(Step step) {
        watcher.awaitReports();
        running = step;
        if (!step.callback || !step.name.endsWith("OperationFinish")) {
            // Flyway fires afterMigrateOperationFinish in any case, after the step that may have failed
            last = step;
        }
        watcher.watch(step.pid, step.work());
        openPids.forEach((pid) -> watcher.watch(pid, step.work()));
    }

    /**
     * A statement of the running step is about to be sent on a guarded connection: the watcher
     * looks again within milliseconds, so a lock wait that starts in a later statement of a step is seen as soon as
     * one that starts with the step.
     */
    public void statementStarting() {
        if (running != null) {
            watcher.statementStarting();
        }
    }

    /**
     * AFTER_EACH_MIGRATE or AFTER_EACH_MIGRATE_ERROR, before the callbacks of that event, which run in the
     * migration's transaction and stay part of its step; no SQL: after an error the transaction is aborted. The
     * reports of a signal the watcher is sending are written first.
     */
    public void migrationEnded(boolean success) {
        // a blocker ended just now lets the migration finish at once: its report comes before the tool's next lines
        watcher.awaitReports();
        Step migration = last;
        if (migration == null || migration.callback) {
            return;
        }
        if (success) {
            applied.incrementAndGet();
        }
        else {
            failed = migration;
        }
        events.migrationFinished(migration.name, success, migration.lockWait());
    }

    /**
     * The step that failed in the current attempt: the migration the tool reported failed, or else the step running
     * when it failed; {@code null} when the failure came from none of them.
     * @param callbackFailed whether the tool's failure says a callback of the given event failed
     */
    public @Nullable Step failed(Predicate<String> callbackFailed) {
        Step step = failed != null ? failed : last;
        if (step != null && step.callback && !callbackFailed.test(step.name)) {
            return null;
        }
        return step;
    }

    /** Whether a blocker is a connection of this very run (Flyway's own main connection, for example). */
    boolean ownConnection(Blocker blocker) {
        return connectionPids.contains(blocker.pid());
    }

    public int applied() {
        return applied.get();
    }

    /**
     * The run is over and its watcher closed: its complete record, which the listeners get too.
     * @param failure the failure's message, {@code null} on success
     */
    public MigrationRun finish(Instant started, @Nullable String failure) {
        MigrationRun run = new MigrationRun(started, Instant.now(), failure == null, applied.get(),
                List.copyOf(migrationPids), new ArrayList<>(reports), failure, new ArrayList<>(migrations),
                new ArrayList<>(selfBlocks), new ArrayList<>(lockTimeouts), new ArrayList<>(waitCancellations));
        events.runFinished(run);
        return run;
    }

    /**
     * The invalid indexes a failed step outside a transaction left, asked on a new connection once the tool has
     * given its own back; {@code null}, after a WARN line, when that cannot be told or the step ran in a
     * transaction.
     */
    public static @Nullable List<String> invalidIndexesLeft(DataSource dataSource, Step failed) {
        if (failed.invalidIndexesBefore == null) {
            return null;
        }
        try {
            return InvalidIndexes.leftSince(dataSource, failed.invalidIndexesBefore);
        }
        catch (SQLException | RuntimeException ex) {
            log.atWarn()
                .addKeyValue("migration", failed.name)
                .addKeyValue("error", String.valueOf(ex.getMessage()))
                .log("pgmigrate: could not list the invalid indexes a failed migration left; check "
                        + "pg_index.indisvalid yourself: migration=\"{}\" error={}", failed.name, ex.getMessage());
            return null;
        }
    }

    /** The statement that drops an invalid index, for messages. */
    public static String dropStatement(String index) {
        return InvalidIndexes.drop(index);
    }

    @Override
    public void blockersDetected(List<Blocker> blockers) {
        Step step = running;
        if (step == null) {
            return;
        }
        Blocker flywayLock = null;
        Blocker other = null;
        for (Blocker blocker : blockers) {
            if (blocker.blockedPid() != step.pid && !openPids.contains(blocker.blockedPid())) {
                continue;
            }
            step.saw(blocker);
            if (!ownConnection(blocker) || !APPLICATION_NAME.equals(blocker.applicationName())) {
                continue;
            }
            if (blocker.pid() == lockConnectionPid && blocker.blockedPid() == step.pid) {
                flywayLock = flywayLock == null ? blocker : flywayLock;
            }
            else {
                other = other == null ? blocker : other;
            }
        }
        if (flywayLock != null && step.selfBlocked(SelfBlockKind.FLYWAY_LOCK, flywayLock)
                && selfBlockedReported.add(step.work() + ":" + SelfBlockKind.FLYWAY_LOCK)) {
            selfBlocked(new SelfBlockedEvent(step.callback ? step.work() : step.name, flywayLock, lockTimeout),
                    capitalized(step.work()));
        }
        else if (flywayLock == null && other != null && step.selfBlocked(SelfBlockKind.OWN_CONNECTION, other)
                && selfBlockedReported.add(step.work() + ":" + SelfBlockKind.OWN_CONNECTION)) {
            blockedByOwnConnection(step, other);
        }
    }

    /** One ERROR line per migration: the fact, the cause in one sentence, the fix, then the details. */
    private void selfBlocked(SelfBlockedEvent event, String step) {
        Blocker blocker = event.blocker();
        log.atError()
            .addKeyValue("migration", event.migration())
            .addKeyValue("pid", blocker.pid())
            .addKeyValue("migration_pid", blocker.blockedPid())
            .addKeyValue("state", String.valueOf(blocker.state()))
            .addKeyValue("lock_timeout", lockTimeoutValue(event.lockTimeout()))
            .log("pgmigrate: {} waits for " + selfBlockText.lockConnection() + " and cannot finish. "
                    + selfBlockText.cause() + " Fix: " + selfBlockText.fix() + " " + ending(blocker, event.lockTimeout())
                    + ": migration=\"{}\" pid={} migration_pid={} state=\"{}\" lock_timeout={}",
                    step, event.migration(), blocker.pid(), blocker.blockedPid(), blocker.state(),
                    lockTimeoutValue(event.lockTimeout()));
        events.selfBlocked(event);
    }

    /** One ERROR line per step that waits for another connection of its own run: a deadlock within the run. */
    private void blockedByOwnConnection(Step step, Blocker blocker) {
        log.atError()
            .addKeyValue("step", step.work())
            .addKeyValue("pid", blocker.pid())
            .addKeyValue("blocked_pid", blocker.blockedPid())
            .addKeyValue("state", String.valueOf(blocker.state()))
            .addKeyValue("lock_timeout", lockTimeoutValue(lockTimeout))
            .log("pgmigrate: {} waits for another connection of its own run and cannot finish. "
                    + selfBlockText.ownConnectionCause() + " Fix: " + selfBlockText.ownConnectionFix() + " "
                    + ending(blocker, lockTimeout) + ": step=\"{}\" pid={} blocked_pid={} state=\"{}\" lock_timeout={}",
                    capitalized(step.work()), step.work(), blocker.pid(), blocker.blockedPid(), blocker.state(),
                    lockTimeoutValue(lockTimeout));
    }

    private static String ending(Blocker blocker, Duration lockTimeout) {
        return lockTimeout == null
                ? "No lock timeout is set, so it waits until it is cancelled, for example with "
                        + "SELECT pg_cancel_backend(" + blocker.blockedPid() + ")"
                : "It fails when the lock timeout of " + BlockerText.lockTimeout(lockTimeout) + " runs out";
    }

    private static String capitalized(String text) {
        return text.isEmpty() ? text : Character.toUpperCase(text.charAt(0)) + text.substring(1);
    }

    private static String lockTimeoutValue(Duration lockTimeout) {
        return lockTimeout == null ? "none" : BlockerText.lockTimeout(lockTimeout);
    }

    @Override
    public void blockerHandled(BlockerReport report) {
        reports.add(report);
    }

    @Override
    public void selfBlocked(SelfBlockedEvent event) {
        selfBlocks.add(event);
    }

    @Override
    public void lockTimeout(LockTimeoutEvent event) {
        lockTimeouts.add(event);
    }

    @Override
    public void waitCancelled(WaitCancellation event) {
        waitCancellations.add(event);
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

    /**
     * The backend that runs the migration, asked again rather than taken from the connection's opening: behind a
     * transaction pooler they differ. Asking is harmless inside the migration's transaction.
     */
    static int backendPid(Connection connection) throws SQLException {
        try (Statement statement = connection.createStatement();
                ResultSet rows = statement.executeQuery("SELECT pg_backend_pid()")) {
            rows.next();
            return rows.getInt(1);
        }
    }
}
