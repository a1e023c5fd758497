package io.pgmigrate.core;

import java.sql.Array;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collection;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.locks.Condition;
import java.util.concurrent.locks.ReentrantLock;

import javax.sql.DataSource;

import org.slf4j.Logger;

/**
 * Watches migrating PostgreSQL backends and deals with the sessions that block them.
 * <p>
 * While at least one backend is {@linkplain #watch watched}, a daemon thread named {@code pgmigrate-watcher-N}
 * asks PostgreSQL every poll interval, on a connection of its own ({@code application_name=pgmigrate-watcher}),
 * which sessions block the watched backends; it screens them ({@link WatchSettings}: minimum duration,
 * exclusions; and always: prepared transactions, the watcher itself, the watched backends,
 * {@linkplain #protect protected} connections, and every session whose application_name starts with
 * {@code pgmigrate-}) and hands the rest to the {@link BlockingAction}. Every outcome goes to the
 * {@link WatchListener} and to the log.
 * <p>
 * {@link #start()} opens the watcher's connection before it returns, and fails when it cannot: a watcher that
 * could not watch must not let the work start unguarded. From then on the watcher never fails the work it
 * watches: a failed poll is reported and the next poll starts over with a new connection. {@link #close()}
 * stops the thread and returns the connection, restored, before it returns.
 * <p>
 * The watcher holds its connection for as long as it runs. Give it a DataSource of its own, or one reserved for
 * it: never a pool whose every connection the watched work and the application may hold at once, or the watcher
 * cannot reconnect when it must.
 */
public final class Watcher implements AutoCloseable {

    /** The application_name of the watcher's own connection. */
    public static final String APPLICATION_NAME = "pgmigrate-watcher";

    private static final Logger log = LogLines.logger(Watcher.class.getName());

    private static final AtomicInteger threadNumbers = new AtomicInteger();

    /** The longest pause between polls while polls keep failing. */
    private static final Duration MAX_RETRY_DELAY = Duration.ofSeconds(5);

    /** The watcher's own statements must never hang the watcher. */
    private static final Map<String, String> WATCHER_SESSION = Map.of(
            "application_name", APPLICATION_NAME,
            "statement_timeout", "10s",
            "lock_timeout", "2s");

    private final DataSource dataSource;
    private final WatchSettings settings;
    private final BlockingAction action;
    private final WatchListener listener;
    private final BlockerQuery query;
    private final BlockerRules rules;

    private final Map<Integer, String> watched = new ConcurrentHashMap<>();
    private final Set<Integer> protectedPids = ConcurrentHashMap.newKeySet();
    private final Set<String> reported = new HashSet<>();
    private final AtomicLong polls = new AtomicLong();
    /** Polls failed in a row; the watcher backs off while they repeat. Watcher thread only. */
    private int failuresInARow;

    private final ReentrantLock lock = new ReentrantLock();
    private final Condition wakeUp = lock.newCondition();
    private boolean running;
    private Thread thread;

    private Connection connection;
    private SessionSettings connectionSettings;
    private boolean connectionAutoCommit;
    /** Whether the excluded roles were checked against the server; watcher thread only. */
    private boolean excludedRolesChecked;

    /**
     * A watcher that is not started yet.
     * @param dataSource where the watcher's connection comes from: best a DataSource of its own; a pool works when
     *        it keeps a connection for the watcher besides those the watched work and the application hold, and
     *        gets the connection back with its settings restored
     * @param settings poll interval and filters
     * @param action what to do with blockers that pass the filters
     * @param listener receives every event, after the watcher's own log line
     */
    public Watcher(DataSource dataSource, WatchSettings settings, BlockingAction action, WatchListener listener) {
        this.dataSource = Objects.requireNonNull(dataSource, "dataSource");
        this.settings = Objects.requireNonNull(settings, "settings");
        this.action = Objects.requireNonNull(action, "action");
        this.listener = WatchListener.of(List.of(new LoggingWatchListener(), Objects.requireNonNull(listener,
                "listener")));
        this.query = new BlockerQuery(settings.maxQueryLength());
        this.rules = new BlockerRules(settings);
    }

    /**
     * Opens the watcher's connection, then starts the polling thread.
     * @throws WatcherConnectionException when the watcher cannot get its connection; nothing is started then
     */
    public Watcher start() {
        lock.lock();
        try {
            if (running) {
                throw new IllegalStateException("watcher already started");
            }
            try {
                // The one place where the watcher's first connection is opened and prepared, before any work is
                // watched: one-time checks that need the connection belong right after this line.
                connection = openConnection();
            }
            catch (SQLException | RuntimeException ex) {
                throw new WatcherConnectionException(dataSource, ex);
            }
            Thread poller = new Thread(this::run, "pgmigrate-watcher-" + threadNumbers.incrementAndGet());
            poller.setDaemon(true);
            try {
                running = true;
                poller.start();
            }
            catch (RuntimeException | Error ex) {
                running = false;
                closeConnection();
                throw ex;
            }
            thread = poller;
            return this;
        }
        finally {
            lock.unlock();
        }
    }

    /**
     * Watches a backend: its blockers are dealt with from the next poll on. The backend itself is never
     * acted on.
     * @param pid the backend pid, from {@code pg_backend_pid()}
     * @param work what it does, for log lines and reports, for example {@code migration 2 (add email)}
     */
    public void watch(int pid, String work) {
        watched.put(pid, work);
        signalThread();
    }

    /** Stops watching a backend; it stays protected. */
    public void unwatch(int pid) {
        watched.remove(pid);
    }

    /**
     * Protects a backend: it is never acted on, even when it blocks a watched backend, until it is
     * {@linkplain #unprotect unprotected}.
     */
    public void protect(int pid) {
        protectedPids.add(pid);
    }

    /**
     * Ends the protection of a backend, once its connection is no longer the watched work's: for example when it
     * went back to a pool the application shares, which may lend it to a session that blocks the work. PostgreSQL
     * also reuses the pids of ended backends. A backend that is watched is still never acted on.
     */
    public void unprotect(int pid) {
        protectedPids.remove(pid);
    }

    /** The number of polls completed so far, successful or not. */
    public long polls() {
        return polls.get();
    }

    private void run() {
        try {
            while (awaitNextPoll()) {
                poll();
                polls.incrementAndGet();
            }
        }
        finally {
            closeConnection();
        }
    }

    private boolean awaitNextPoll() {
        lock.lock();
        try {
            long nanos = nextPollDelay().toNanos();
            while (running && (nanos > 0 || watched.isEmpty())) {
                if (watched.isEmpty()) {
                    wakeUp.await();
                }
                else {
                    nanos = wakeUp.awaitNanos(nanos);
                }
            }
            return running;
        }
        catch (InterruptedException ex) {
            Thread.currentThread().interrupt();
            return false;
        }
        finally {
            lock.unlock();
        }
    }

    /**
     * The poll interval; after failed polls, twice as long for each failure in a row, up to
     * {@link #MAX_RETRY_DELAY} (never below the poll interval), so a lasting error (a revoked privilege,
     * a server going down) does not turn into a connection storm.
     */
    private Duration nextPollDelay() {
        Duration interval = settings.pollInterval();
        if (failuresInARow == 0) {
            return interval;
        }
        Duration backoff = interval.multipliedBy(1L << Math.min(failuresInARow - 1, 20));
        Duration cap = interval.compareTo(MAX_RETRY_DELAY) > 0 ? interval : MAX_RETRY_DELAY;
        return backoff.compareTo(cap) > 0 ? cap : backoff;
    }

    private void signalThread() {
        lock.lock();
        try {
            wakeUp.signalAll();
        }
        finally {
            lock.unlock();
        }
    }

    private void poll() {
        Map<Integer, String> work = Map.copyOf(watched);
        if (work.isEmpty()) {
            return;
        }
        try {
            Connection current = connection();
            List<Blocker> blockers = distinctByPid(query.find(current, work.keySet()));
            failuresInARow = 0;
            if (blockers.isEmpty()) {
                return;
            }
            listener.blockersDetected(blockers);
            handle(current, blockers, work);
        }
        catch (SQLException | RuntimeException ex) {
            failuresInARow++;
            closeConnection();
            listener.watcherFailed(ex);
        }
    }

    private void handle(Connection current, List<Blocker> blockers, Map<Integer, String> work) throws SQLException {
        Set<Integer> untouchable = new HashSet<>(protectedPids);
        untouchable.addAll(work.keySet());
        List<Blocker> actionable = new ArrayList<>();
        for (Blocker blocker : blockers) {
            BlockerRules.Verdict verdict = rules.screen(blocker, untouchable);
            if (verdict == null) {
                actionable.add(blocker);
            }
            else {
                report(blocker, work, verdict.outcome(), verdict.detail());
            }
        }
        if (actionable.isEmpty()) {
            return;
        }
        Set<Blocker> handled = new HashSet<>();
        action.act(List.copyOf(actionable), new BlockerControl() {
            @Override
            public void terminate(Collection<Blocker> targets) throws SQLException {
                send(BlockerRules.Signal.TERMINATE, targets);
            }

            @Override
            public void cancel(Collection<Blocker> targets) throws SQLException {
                send(BlockerRules.Signal.CANCEL, targets);
            }

            private void send(BlockerRules.Signal signal, Collection<Blocker> targets) throws SQLException {
                List<Blocker> fresh = targets.stream().filter(actionable::contains).filter(handled::add).toList();
                rules.signal(current, signal, fresh, untouchable)
                    .forEach((blocker, result) -> report(blocker, work, result.outcome(), result.detail()));
            }

            @Override
            public void show(Blocker blocker) {
                if (actionable.contains(blocker) && handled.add(blocker)) {
                    report(blocker, work, BlockerOutcome.SHOWN, "");
                }
            }

            @Override
            public void ignore(Blocker blocker) {
                if (actionable.contains(blocker) && handled.add(blocker)) {
                    report(blocker, work, BlockerOutcome.IGNORED, "");
                }
            }
        });
        for (Blocker blocker : actionable) {
            if (!handled.contains(blocker)) {
                report(blocker, work, BlockerOutcome.CUSTOM, "left to " + action.getClass().getName());
            }
        }
    }

    private void report(Blocker blocker, Map<Integer, String> work, BlockerOutcome outcome, String detail) {
        if (!reported.add(blocker.key() + ":" + outcome)) {
            return;
        }
        // what the backend does now: the work may have moved on to its next step since the poll began
        String blockedWork = watched.getOrDefault(blocker.blockedPid(),
                work.getOrDefault(blocker.blockedPid(), "backend pid " + blocker.blockedPid()));
        listener.blockerHandled(new BlockerReport(blocker, blockedWork, outcome, detail));
    }

    private static List<Blocker> distinctByPid(List<Blocker> blockers) {
        Map<String, Blocker> byKey = new LinkedHashMap<>();
        for (Blocker blocker : blockers) {
            byKey.putIfAbsent(blocker.key(), blocker);
        }
        return List.copyOf(byKey.values());
    }

    private Connection connection() throws SQLException {
        if (connection == null) {
            connection = openConnection();
        }
        return connection;
    }

    /**
     * One WARN line for each excluded role that does not exist: a typo would otherwise protect nobody in silence.
     */
    private void warnAboutMissingExcludedRoles(Connection current) throws SQLException {
        if (rules.excludedUsers().isEmpty()) {
            return;
        }
        Array names = current.createArrayOf("text", rules.excludedUsers().toArray());
        try (PreparedStatement statement = current.prepareStatement("SELECT n FROM unnest(?::text[]) AS n "
                + "WHERE NOT EXISTS (SELECT 1 FROM pg_roles r WHERE r.rolname = n) ORDER BY n")) {
            statement.setArray(1, names);
            try (ResultSet rows = statement.executeQuery()) {
                while (rows.next()) {
                    String role = rows.getString(1);
                    log.atWarn()
                        .addKeyValue("role", role)
                        .log("pgmigrate: an excluded role does not exist, so it protects no session; exclude-users "
                                + "takes role names as SQL does: unquoted names are folded to lower case, "
                                + "\"Quoted\" names keep their case: role={}", Blocker.logValue(role));
                }
            }
        }
        finally {
            names.free();
        }
    }

    /** A new connection from the DataSource, prepared for the watcher: autocommit and {@link #WATCHER_SESSION}. */
    private Connection openConnection() throws SQLException {
        Connection fresh = dataSource.getConnection();
        try {
            connectionAutoCommit = fresh.getAutoCommit();
            fresh.setAutoCommit(true);
            connectionSettings = SessionSettings.apply(fresh, WATCHER_SESSION);
            if (!excludedRolesChecked) {
                excludedRolesChecked = true;
                warnAboutMissingExcludedRoles(fresh);
            }
        }
        catch (SQLException | RuntimeException ex) {
            fresh.close();
            throw ex;
        }
        return fresh;
    }

    private void closeConnection() {
        Connection current = connection;
        connection = null;
        if (current == null) {
            return;
        }
        try {
            if (!current.isClosed() && current.isValid(2)) {
                connectionSettings.restore();
                current.setAutoCommit(connectionAutoCommit);
            }
        }
        catch (SQLException ex) {
            log.debug("Could not restore the watcher connection's settings", ex);
        }
        finally {
            try {
                current.close();
            }
            catch (SQLException ex) {
                log.debug("Could not close the watcher connection", ex);
            }
        }
    }

    /**
     * Stops polling and returns the watcher's connection. Waits for a poll in progress to finish (bounded by
     * the watcher's statement timeout).
     */
    @Override
    public void close() {
        Thread current;
        lock.lock();
        try {
            running = false;
            wakeUp.signalAll();
            current = thread;
        }
        finally {
            lock.unlock();
        }
        if (current == null || current == Thread.currentThread()) {
            return;
        }
        try {
            current.join(TimeUnit.SECONDS.toMillis(30));
            if (current.isAlive()) {
                current.interrupt();
                current.join(Duration.ofSeconds(5).toMillis());
            }
        }
        catch (InterruptedException ex) {
            Thread.currentThread().interrupt();
        }
    }
}
