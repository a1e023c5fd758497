package io.pgmigrate.core.internal;

import java.sql.Array;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collection;
import java.util.HashMap;
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

import io.pgmigrate.core.Blocker;
import io.pgmigrate.core.BlockerControl;
import io.pgmigrate.core.BlockerOutcome;
import io.pgmigrate.core.BlockerReport;
import io.pgmigrate.core.BlockingAction;
import io.pgmigrate.core.GuardListener;
import io.pgmigrate.core.NotPostgresException;
import io.pgmigrate.core.WaitCancellation;
import io.pgmigrate.core.WatchSettings;
import io.pgmigrate.core.WatcherConnectionException;
import org.jspecify.annotations.Nullable;
import org.slf4j.Logger;

/**
 * Watches migrating PostgreSQL backends and deals with the sessions that block them.
 * <p>
 * While at least one backend is {@linkplain #watch watched}, a daemon thread named {@code pgmigrate-watcher-N}
 * asks PostgreSQL every poll interval (and sooner right after {@link #watch}: at once, then after 1, 2, 4 ms ... up
 * to the interval), on a connection of its own ({@code application_name=pgmigrate-watcher}), which sessions block
 * the watched backends; it screens them ({@link WatchSettings}: minimum duration,
 * exclusions; and always: prepared transactions, the watcher itself, the watched backends,
 * {@linkplain #protect protected} connections, and every session whose application_name starts with
 * {@code pgmigrate-}) and hands the rest to the {@link BlockingAction}. Every outcome goes to the
 * {@link GuardListener} and to the log.
 * <p>
 * A bounded stall: when other sessions queue behind a watched backend's lock wait without a break for
 * {@link WatchSettings#maxApplicationStall()} (the sessions it waits for are kept: excluded, not permitted, too
 * young, only shown, ...), the watcher cancels that wait ({@code pg_cancel_backend}), once per wait, in a statement
 * that checks at that moment that it is the same connection, still waiting, with someone still queued behind it.
 * A wait that queues nobody (a {@code CREATE INDEX CONCURRENTLY} waiting for older snapshots) is never cancelled
 * this way. The watcher also cancels a watched backend's lock wait when the thread that called {@link #watch} for
 * it is interrupted, so an interrupt ends a waiting statement promptly. Each cancellation goes to
 * {@link GuardListener#waitCancelled} and to the log, and {@link #cancelledWait} tells the watched work about it.
 * <p>
 * {@link #start()} opens the watcher's connection before it returns, and fails when it cannot: a watcher that
 * could not watch must not let the work start unguarded. From then on the watcher never fails the work it
 * watches: a failed poll is reported and the next poll starts over with a new connection. {@link #close()}
 * stops the thread, and returns the connection, restored, before it returns.
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
    private final GuardListener listener;
    private final BlockerQuery query;
    private final BlockerRules rules;

    private final Map<Integer, String> watched = new ConcurrentHashMap<>();
    /** The thread that registered each watched backend: its interrupt cancels the backend's lock wait. */
    private final Map<Integer, Thread> owners = new ConcurrentHashMap<>();
    private final Set<Integer> protectedPids = ConcurrentHashMap.newKeySet();
    private final Set<String> reported = new HashSet<>();
    /** The blocking transactions terminated so far; watcher thread only. */
    private final Set<String> terminated = new HashSet<>();
    private final AtomicLong polls = new AtomicLong();
    /** Polls failed in a row; the watcher backs off while they repeat. Watcher thread only. */
    private int failuresInARow;
    /** The current lock wait of each watched backend that queues others or was cancelled. Watcher thread only. */
    private final Map<Integer, Stall> stalls = new HashMap<>();
    /** {@link System#nanoTime()} from which the queue behind waiting backends is asked again. Watcher thread only. */
    private long nextStallCheck;
    /** This poll's reports by watched backend, then blocker key: why each blocker was kept. Watcher thread only. */
    private final Map<Integer, Map<String, BlockerReport>> pollReports = new HashMap<>();
    /**
     * Held while a wait is cancelled and the cancellation recorded, so the watched work, once it sees its
     * statement cancelled, finds the record in {@link #cancelledWait}.
     */
    private final ReentrantLock cancelLock = new ReentrantLock();
    /** The last cancelled wait of each backend since it was last watched; guarded by {@link #cancelLock}. */
    private final Map<Integer, WaitCancellation> cancellations = new HashMap<>();

    /** Held from the moment a signal is sent until its reports are written: see {@link #awaitReports}. */
    private final ReentrantLock signalling = new ReentrantLock();

    private final ReentrantLock lock = new ReentrantLock();
    private final Condition wakeUp = lock.newCondition();
    private boolean running;
    /**
     * The delay before the next poll while the polls after {@link #watch} speed up the first look (zero: at once),
     * {@code null} once they have reached the poll interval; guarded by {@link #lock}.
     */
    private Duration quickPollDelay;
    /** {@link System#nanoTime()} when {@link #statementStarting} last began quick polls; guarded by {@link #lock}. */
    private Long lastStatementQuickPolls;
    /**
     * {@link System#nanoTime()} by which the poll that {@link #statementStarting} asked for is due, {@code null}
     * when it asked for none since the last poll; guarded by {@link #lock}.
     */
    private Long quickPollAt;
    /** The longest delay of the current series of quick polls; guarded by {@link #lock}. */
    private Duration quickPollsUpTo = Duration.ZERO;
    private Thread thread;

    /** Written by the watcher thread; read by {@link #close()} to abort a poll that hangs. */
    private volatile Connection connection;
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
    public Watcher(DataSource dataSource, WatchSettings settings, BlockingAction action, GuardListener listener) {
        this.dataSource = Objects.requireNonNull(dataSource, "dataSource");
        this.settings = Objects.requireNonNull(settings, "settings");
        this.action = Objects.requireNonNull(action, "action");
        this.listener = FanOut.logs(Objects.requireNonNull(listener, "listener")) ? listener
                : FanOut.ofWatcher(List.of(new LoggingListener(), listener));
        this.query = new BlockerQuery(settings.maxQueryLength());
        this.rules = new BlockerRules(settings);
    }

    /**
     * Opens the watcher's connection, then starts the polling thread.
     * @throws WatcherConnectionException when the watcher cannot get its connection; nothing is started then
     * @throws NotPostgresException when its connection is not to PostgreSQL; it is closed, nothing is started
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
            catch (NotPostgresException ex) {
                throw ex;
            }
            catch (SQLException | RuntimeException ex) {
                throw new WatcherConnectionException(dataSource, ex);
            }
            warmUp();
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
     * Runs the blocker query and the signal statements once, for no backend (pid 0 is none) and no target, so the
     * first poll that finds a blocker and the first signal of a run pay neither for their statements' first parse
     * nor for the JVM's first run of their code. A failure here is left to the first poll, which reports it and
     * starts over with a new connection.
     */
    private void warmUp() {
        try {
            query.warmUp(connection);
            rules.warmUp(connection);
        }
        catch (SQLException | RuntimeException ex) {
            log.debug("The watcher's first blocker query failed; the first poll tries again", ex);
        }
    }

    /**
     * Watches a backend: the watcher polls at once, then after {@link #FIRST_QUICK_POLL_DELAY}, and twice as long
     * each time, up to the poll interval: a statement that starts to wait for a lock right after this call is
     * seen within milliseconds, without polling faster for the rest of the run. The backend itself is never
     * acted on, except that its lock wait is cancelled when it keeps other sessions queued for longer than
     * {@link WatchSettings#maxApplicationStall()}, or when the calling thread (the one whose statement the backend
     * runs) is interrupted.
     * @param pid the backend pid, from {@code pg_backend_pid()}
     * @param work what it does, for log lines and reports, for example {@code migration 2 (add email)}
     */
    public void watch(int pid, String work) {
        cancelLock.lock();
        try {
            cancellations.remove(pid);
        }
        finally {
            cancelLock.unlock();
        }
        owners.put(pid, Thread.currentThread());
        watched.put(pid, work);
        lock.lock();
        try {
            quickPollDelay = Duration.ZERO;
            quickPollsUpTo = settings.pollInterval();
            wakeUp.signalAll();
        }
        finally {
            lock.unlock();
        }
    }

    /** The delay of the second poll after {@link #watch}; each further one is twice as long. */
    static final Duration FIRST_QUICK_POLL_DELAY = Duration.ofMillis(1);

    /**
     * Waits until the reports of a signal being sent now are written, for at most {@link #REPORT_WAIT}; returns at
     * once when none is being sent. A watched backend whose blocker was just ended goes on at once, while the
     * watcher writes its report: called by the watched work's thread before it moves on, this puts the report (the
     * WARN line naming the blocker) before the lines the work writes next.
     */
    public void awaitReports() {
        try {
            if (signalling.tryLock(REPORT_WAIT.toNanos(), TimeUnit.NANOSECONDS)) {
                signalling.unlock();
            }
        }
        catch (InterruptedException ex) {
            Thread.currentThread().interrupt();
        }
    }

    /**
     * The longest {@link #awaitReports} waits: a signal statement takes a round trip and the listeners write their
     * reports, but the caller may hold the locks of its step meanwhile, with the application queued behind them, so
     * the order of two log lines is never worth more than this.
     */
    static final Duration REPORT_WAIT = Duration.ofMillis(250);

    /**
     * A watched backend is about to run a statement (sent on a guarded connection): the watcher polls
     * after {@link #FIRST_QUICK_POLL_DELAY}, then twice as long each time, up to {@link #STATEMENT_QUICK_POLLS_UP_TO}
     * (or the poll interval, when shorter), so a lock wait that starts in a later statement of a step is seen within
     * milliseconds too, whatever the poll interval. At most once per {@link #STATEMENT_QUICK_POLLS_GAP}: a step that
     * runs thousands of short statements adds no more than three polls per gap.
     */
    public void statementStarting() {
        lock.lock();
        try {
            long now = System.nanoTime();
            if (!startsQuickPolls(lastStatementQuickPolls, now)) {
                return;
            }
            lastStatementQuickPolls = now;
            if (quickPollDelay == null || quickPollDelay.compareTo(FIRST_QUICK_POLL_DELAY) > 0) {
                quickPollDelay = FIRST_QUICK_POLL_DELAY;
                quickPollsUpTo = STATEMENT_QUICK_POLLS_UP_TO;
                quickPollAt = now + FIRST_QUICK_POLL_DELAY.toNanos();
                wakeUp.signalAll();
            }
        }
        finally {
            lock.unlock();
        }
    }

    /** The longest delay of the quick polls after the start of a statement. */
    static final Duration STATEMENT_QUICK_POLLS_UP_TO = Duration.ofMillis(4);

    /** The shortest time between two series of quick polls for statements. */
    static final Duration STATEMENT_QUICK_POLLS_GAP = Duration.ofMillis(50);

    /**
     * Whether a statement that starts now begins a series of quick polls: not when one began less than
     * {@link #STATEMENT_QUICK_POLLS_GAP} ago.
     * @param lastStartNanos {@link System#nanoTime()} when the last series for a statement began, {@code null} for
     *        none yet
     */
    static boolean startsQuickPolls(Long lastStartNanos, long nowNanos) {
        return lastStartNanos == null || nowNanos - lastStartNanos >= STATEMENT_QUICK_POLLS_GAP.toNanos();
    }

    /**
     * The delay of the quick poll after one that waited {@code delay} (zero: at once), or {@code null} once the
     * doubling passes {@code upTo} or reaches the poll interval, where the quick polls end.
     */
    static Duration nextQuickPollDelay(Duration delay, Duration upTo, Duration interval) {
        Duration next = delay.isZero() ? FIRST_QUICK_POLL_DELAY : delay.multipliedBy(2);
        return next.compareTo(interval) < 0 && next.compareTo(upTo) <= 0 ? next : null;
    }

    /** Stops watching a backend; it stays protected. */
    public void unwatch(int pid) {
        watched.remove(pid);
        owners.remove(pid);
    }

    /**
     * The cancellation of the backend's lock wait by this watcher since the backend was last {@linkplain #watch
     * watched}, or {@code null} when its wait was not cancelled; the record is handed out once. A cancellation in
     * progress is waited for, so work whose statement failed as cancelled (SQLSTATE 57014) learns here whether
     * the watcher cancelled it.
     * @param pid the backend pid
     */
    public @Nullable WaitCancellation cancelledWait(int pid) {
        cancelLock.lock();
        try {
            return cancellations.remove(pid);
        }
        finally {
            cancelLock.unlock();
        }
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
            long deadline = System.nanoTime() + nextPollDelay().toNanos();
            while (running) {
                if (watched.isEmpty()) {
                    wakeUp.await();
                    deadline = System.nanoTime() + nextPollDelay().toNanos();
                    continue;
                }
                if (quickPollAt != null && quickPollAt - deadline < 0) {
                    deadline = quickPollAt;
                }
                long nanos = Math.min(deadline - System.nanoTime(), nextPollDelay().toNanos());
                if (quickPollDelay != null && quickPollDelay.isZero()) {
                    nanos = 0;
                }
                if (nanos <= 0) {
                    advanceQuickPolls();
                    return true;
                }
                wakeUp.awaitNanos(nanos);
            }
            return false;
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
            return quickPollDelay != null && quickPollDelay.compareTo(interval) < 0 ? quickPollDelay : interval;
        }
        Duration backoff = interval.multipliedBy(1L << Math.min(failuresInARow - 1, 20));
        Duration cap = interval.compareTo(MAX_RETRY_DELAY) > 0 ? interval : MAX_RETRY_DELAY;
        return backoff.compareTo(cap) > 0 ? cap : backoff;
    }

    /** The poll about to run was due by the quick polls after {@link #watch}: the next one comes twice as late. */
    private void advanceQuickPolls() {
        quickPollAt = null;
        if (quickPollDelay == null) {
            return;
        }
        quickPollDelay = nextQuickPollDelay(quickPollDelay, quickPollsUpTo, settings.pollInterval());
    }

    private void poll() {
        Map<Integer, String> work = Map.copyOf(watched);
        if (work.isEmpty()) {
            return;
        }
        try {
            Connection current = connection();
            List<Blocker> blockers = distinctByPid(query.find(current, work.keySet()));
            // each report names the step a backend ran when PostgreSQL reported its blockers: until they are gone it
            // cannot move on, and once they are (signalled below) it soon starts its next step
            Map<Integer, String> blocked = currentWork(work);
            failuresInARow = 0;
            pollReports.clear();
            if (!blockers.isEmpty()) {
                listener.blockersDetected(blockers);
                handle(current, blockers, blocked);
            }
            boundWaits(current, blockers, blocked);
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
            if (terminated.contains(blocker.key())) {
                // terminated already, and still exiting: PostgreSQL lists it until its locks are gone
                continue;
            }
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
                signalling.lock();
                try {
                    Map<Blocker, BlockerRules.SignalResult> results = rules.signal(current, signal, fresh,
                            untouchable);
                    results.forEach((blocker, result) -> {
                        if (result.outcome() == BlockerOutcome.TERMINATED) {
                            terminated.add(blocker.key());
                        }
                        report(blocker, work, result.outcome(), result.detail());
                    });
                }
                finally {
                    signalling.unlock();
                }
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

    /** What each backend does now: the work may have moved on to its next step since the poll began. */
    private Map<Integer, String> currentWork(Map<Integer, String> work) {
        Map<Integer, String> current = new HashMap<>(work);
        current.putAll(watched);
        return current;
    }

    /** @param work the step each watched backend ran when its blockers were found */
    private void report(Blocker blocker, Map<Integer, String> work, BlockerOutcome outcome, String detail) {
        String blockedWork = work.getOrDefault(blocker.blockedPid(), "backend pid " + blocker.blockedPid());
        BlockerReport report = new BlockerReport(blocker, blockedWork, outcome, detail);
        pollReports.computeIfAbsent(blocker.blockedPid(), (pid) -> new LinkedHashMap<>()).put(blocker.key(), report);
        if (!reported.add(blocker.key() + ":" + outcome)) {
            return;
        }
        listener.blockerHandled(report);
    }

    /** The lock wait of one watched backend, as far as the bound on the application's stall is concerned. */
    private static final class Stall {

        final String waitKey;
        /** {@link System#nanoTime()} when others were first seen queued behind this wait without a break. */
        Long queuedSince;
        boolean cancelled;

        Stall(String waitKey) {
            this.waitKey = waitKey;
        }
    }

    /**
     * Bounds how long a watched backend's lock wait may keep other sessions queued, and cancels the wait of a
     * backend whose thread was interrupted. Asked only while a watched backend has blockers (it waits for a
     * lock), at once when they appear and then every {@link #stallCheckInterval}, and at every poll while the
     * thread of a watched backend is interrupted.
     */
    private void boundWaits(Connection current, List<Blocker> blockers, Map<Integer, String> work)
            throws SQLException {
        Duration bound = settings.maxApplicationStall();
        boolean interrupted = work.keySet().stream().anyMatch(this::ownerInterrupted);
        if ((bound.isZero() || blockers.isEmpty()) && !interrupted) {
            stalls.clear();
            return;
        }
        long now = System.nanoTime();
        if (!interrupted && !stalls.isEmpty() && now - nextStallCheck < 0) {
            return;
        }
        nextStallCheck = now + stallCheckInterval(bound).toNanos();
        Set<Integer> notApplication = new HashSet<>(protectedPids);
        notApplication.addAll(work.keySet());
        Set<Integer> waiting = new HashSet<>();
        for (QueuedSessions.Wait wait : QueuedSessions.find(current, work.keySet(), notApplication)) {
            waiting.add(wait.pid());
            Stall stall = stalls.get(wait.pid());
            if (stall == null || !stall.waitKey.equals(wait.key())) {
                stall = new Stall(wait.key());
                stalls.put(wait.pid(), stall);
            }
            if (stall.cancelled) {
                continue;
            }
            if (wait.queued() == 0) {
                stall.queuedSince = null;
            }
            else if (stall.queuedSince == null) {
                stall.queuedSince = now;
            }
            Duration queuedFor = stall.queuedSince == null ? Duration.ZERO : Duration.ofNanos(now - stall.queuedSince);
            // what the backend does now, as in the reports
            String blockedWork = watched.getOrDefault(wait.pid(), work.get(wait.pid()));
            if (ownerInterrupted(wait.pid())) {
                stall.cancelled = cancel(current, wait, WaitCancellation.Reason.INTERRUPT, blockedWork, queuedFor,
                        notApplication);
            }
            else if (!bound.isZero() && wait.queued() > 0 && wait.waitStartMicros() != null
                    && queuedFor.compareTo(bound) >= 0) {
                stall.cancelled = cancel(current, wait, WaitCancellation.Reason.APPLICATION_STALL, blockedWork,
                        queuedFor, notApplication);
                if (!stall.cancelled) {
                    // nobody queued any more, or the wait ended, at the moment of the cancel: the clock starts over
                    stall.queuedSince = null;
                }
            }
        }
        stalls.keySet().retainAll(waiting);
    }

    /**
     * How often the queue behind a waiting backend is asked: a tenth of the bound, at most 250 ms, never more often
     * than the watcher polls. The queue costs a second read of the lock table; asking it at every poll (25 ms by
     * default) would double the watcher's cost while a blocker is kept, for a bound measured in seconds.
     */
    private Duration stallCheckInterval(Duration bound) {
        Duration interval = bound.dividedBy(10);
        if (interval.isZero() || interval.compareTo(STALL_CHECK_MAX_INTERVAL) > 0) {
            interval = STALL_CHECK_MAX_INTERVAL;
        }
        return interval.compareTo(settings.pollInterval()) < 0 ? settings.pollInterval() : interval;
    }

    /** The longest pause between two looks at the queue behind a waiting backend. */
    private static final Duration STALL_CHECK_MAX_INTERVAL = Duration.ofMillis(250);

    private boolean ownerInterrupted(int pid) {
        Thread owner = owners.get(pid);
        return owner != null && owner.isInterrupted();
    }

    /** Cancels the wait if it still qualifies at this moment; records and reports the cancellation. */
    private boolean cancel(Connection current, QueuedSessions.Wait wait, WaitCancellation.Reason reason, String work,
            Duration queuedFor, Set<Integer> notApplication) throws SQLException {
        WaitCancellation event;
        cancelLock.lock();
        try {
            boolean onlyIfQueued = reason == WaitCancellation.Reason.APPLICATION_STALL;
            if (!QueuedSessions.cancel(current, wait, onlyIfQueued, notApplication)) {
                return false;
            }
            List<BlockerReport> kept = pollReports.getOrDefault(wait.pid(), Map.of()).values().stream()
                .filter((report) -> !report.outcome().signalled() && report.outcome() != BlockerOutcome.GONE)
                .toList();
            event = new WaitCancellation(reason, wait.pid(), work == null ? "backend pid " + wait.pid() : work,
                    wait.waitingFor(), wait.queued(), queuedFor, settings.maxApplicationStall(), kept);
            cancellations.put(wait.pid(), event);
        }
        finally {
            cancelLock.unlock();
        }
        listener.waitCancelled(event);
        return true;
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
                                + "\"Quoted\" names keep their case: role={}", BlockerText.value(role));
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
            // the driver's constant (PgJDBC asks the server nothing): before any statement, which another
            // database might not understand
            String product = fresh.getMetaData().getDatabaseProductName();
            if (!"PostgreSQL".equalsIgnoreCase(product)) {
                throw new NotPostgresException(String.valueOf(product));
            }
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
        query.close();
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
     * Stops polling and returns the watcher's connection; the watcher's thread has ended when this returns. A poll
     * in progress gets {@link #CLOSE_GRACE} to finish; then its statement is broken off (the connection is aborted
     * and the thread interrupted) and the thread is waited for, however long that takes. An interrupt of the
     * calling thread does not cut the wait short; its interrupt flag is set again before this returns.
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
        boolean interrupted = false;
        long deadline = System.nanoTime() + CLOSE_GRACE.toNanos();
        while (current.isAlive()) {
            long left = deadline - System.nanoTime();
            try {
                if (left > 0) {
                    TimeUnit.NANOSECONDS.timedJoin(current, left);
                }
                else {
                    abortPoll(current);
                    current.join();
                }
            }
            catch (InterruptedException ex) {
                interrupted = true;
            }
        }
        if (interrupted) {
            Thread.currentThread().interrupt();
        }
    }

    /** How long {@link #close()} lets a poll in progress finish before it breaks the poll off. */
    static final Duration CLOSE_GRACE = Duration.ofSeconds(1);

    /** Breaks off a poll that hangs: aborts its connection (a statement in progress fails) and interrupts it. */
    private void abortPoll(Thread current) {
        Connection hanging = connection;
        if (hanging != null) {
            try {
                hanging.abort(Runnable::run);
            }
            catch (SQLException | RuntimeException ex) {
                log.debug("Could not abort the watcher connection", ex);
            }
        }
        current.interrupt();
    }
}
