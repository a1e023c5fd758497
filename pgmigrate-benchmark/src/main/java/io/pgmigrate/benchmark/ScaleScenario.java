package io.pgmigrate.benchmark;

import java.lang.management.ManagementFactory;
import java.lang.management.ThreadMXBean;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.locks.Condition;
import java.util.concurrent.locks.ReentrantLock;
import java.util.stream.Collectors;
import java.util.stream.IntStream;

import io.pgmigrate.core.BlockerOutcome;
import io.pgmigrate.core.BlockerReport;
import io.pgmigrate.core.GuardListener;
import io.pgmigrate.core.StandardBlockingAction;
import io.pgmigrate.core.WatchSettings;
import io.pgmigrate.core.internal.Watcher;

/**
 * Scenario 3: the watcher at scale. Three measurements, each on the core {@link Watcher} with an
 * {@link InstrumentedDataSource} that times its statements:
 * <ol>
 * <li>many sessions idle in transaction block one {@code ALTER TABLE}: the time from the watcher starting
 * to watch until the {@code ALTER TABLE} got its lock, against one poll interval plus 200 ms;</li>
 * <li>the poll query's latency while other sessions hold 10,000 locks (and, for comparison, with no other
 * locks), the watched backend blocked by one session that the {@code none} action leaves alone;</li>
 * <li>in the same state, for several poll intervals: the CPU the watcher's PostgreSQL backend uses (from
 * {@code /proc}, when the server runs on this machine), the watcher thread's own CPU, and the statements
 * per second it sends (counted at the client, and as transactions committed in {@code pg_stat_database}).</li>
 * </ol>
 */
final class ScaleScenario {

    static final String NAME = "scale";

    /** What one poll interval costs in the steady state. */
    record PollCost(Duration interval, boolean manyLocks, List<Double> findMillis, double serverCpuPercent,
            double clientCpuPercent, double statementsPerSecond, double commitsPerSecond) {
    }

    private final BenchDatabase database;
    private final BenchmarkOptions options;
    private final List<PollCost> pollCosts = new ArrayList<>();
    private final AtomicInteger threadNumbers = new AtomicInteger();

    ScaleScenario(BenchDatabase database, BenchmarkOptions options) {
        this.database = database;
        this.options = options;
    }

    /** The steady-state costs measured by the last {@link #run}. */
    List<PollCost> pollCosts() {
        return List.copyOf(pollCosts);
    }

    List<Figure> run() throws Exception {
        List<Figure> figures = new ArrayList<>();
        database.execute("CREATE SCHEMA scale");
        try {
            figures.addAll(clearManyBlockers());
            figures.addAll(pollWithManyLocks());
        }
        finally {
            database.terminateOthers();
            database.execute("DROP SCHEMA scale CASCADE");
        }
        return figures;
    }

    // ---------------------------------------------------------------- 1,000 blockers

    private List<Figure> clearManyBlockers() throws Exception {
        int maxConnections = Integer.parseInt(String.valueOf(database.queryValue("SHOW max_connections")));
        int count = Math.min(options.blockers(), maxConnections - 60);
        Duration poll = WatchSettings.DEFAULT_POLL_INTERVAL;
        List<Double> clear = new ArrayList<>();
        List<Double> afterPoll = new ArrayList<>();
        List<Double> findMillis = new ArrayList<>();
        List<Double> terminateMillis = new ArrayList<>();
        List<Double> terminated = new ArrayList<>();
        for (int repetition = 0; repetition < options.scaleRuns(); repetition++) {
            String table = "scale.busy_" + repetition;
            database.execute("CREATE TABLE " + table + " (id int)");
            List<Connection> blockers = openIdleInTransaction(count, "SELECT count(*) FROM " + table);
            try (Connection migration = database.connect("bench-migration")) {
                int migrationPid = pid(migration);
                AtomicLong altered = new AtomicLong();
                CompletableFuture<Void> alter = runAsync(migration, "ALTER TABLE " + table + " ADD COLUMN c int",
                        altered);
                awaitLockWait(migrationPid);
                InstrumentedDataSource dataSource = new InstrumentedDataSource(database.dataSource());
                AtomicInteger terminations = new AtomicInteger();
                GuardListener listener = new GuardListener() {
                    @Override
                    public void blockerHandled(BlockerReport report) {
                        if (report.outcome() == BlockerOutcome.TERMINATED) {
                            terminations.incrementAndGet();
                        }
                    }
                };
                long start;
                try (Watcher watcher = new Watcher(dataSource, WatchSettings.defaults().withPollInterval(poll),
                        StandardBlockingAction.TERMINATE, listener).start()) {
                    start = System.nanoTime();
                    watcher.watch(migrationPid, "scale migration");
                    alter.get(120, TimeUnit.SECONDS);
                }
                List<InstrumentedDataSource.Sample> samples = dataSource.samples();
                // the watcher's warm-up ran before start: the first poll is the first check after it
                long from = start;
                long firstPoll = samples.stream().filter(s -> s.kind() == InstrumentedDataSource.Kind.CHECK)
                    .mapToLong(InstrumentedDataSource.Sample::startNanos).filter(t -> t >= from).min().orElse(start);
                clear.add((altered.get() - start) / 1e6);
                afterPoll.add((altered.get() - firstPoll) / 1e6);
                findMillis.add(samples.stream().filter(s -> s.kind() == InstrumentedDataSource.Kind.FIND)
                    .filter(s -> s.startNanos() >= from)
                    .mapToDouble(s -> s.durationNanos() / 1e6).findFirst().orElse(Double.NaN));
                terminateMillis.add(samples.stream().filter(s -> s.kind() == InstrumentedDataSource.Kind.TERMINATE)
                    .filter(s -> s.startNanos() >= from)
                    .mapToDouble(s -> s.durationNanos() / 1e6).sum());
                terminated.add((double) terminations.get());
                BenchmarkRunner.progress("scale %d blockers run %d/%d: cleared %s ms after watch() (poll %d ms), "
                        + "%s ms after the first poll began; find %s ms, terminate %s ms, terminated %d",
                        count, repetition + 1, options.scaleRuns(), Figure.format(clear.get(repetition)),
                        poll.toMillis(), Figure.format(afterPoll.get(repetition)),
                        Figure.format(findMillis.get(repetition)), Figure.format(terminateMillis.get(repetition)),
                        terminations.get());
            }
            finally {
                closeAll(blockers);
                database.terminateOthers();
            }
        }
        String configuration = count + " blockers, poll " + poll.toMillis() + " ms";
        return List.of(
                new Figure(NAME, configuration, "blockers cleared after watch()", "ms", clear,
                        "≤ " + (poll.toMillis() + 200)),
                new Figure(NAME, configuration, "blockers cleared after the first poll began", "ms", afterPoll,
                        "≤ 200"),
                new Figure(NAME, configuration, "poll query (finds them)", "ms", findMillis),
                new Figure(NAME, configuration, "terminate statement", "ms", terminateMillis),
                new Figure(NAME, configuration, "blockers terminated", "sessions", terminated, "= " + count));
    }

    // ---------------------------------------------------------------- 10,000 locks

    private List<Figure> pollWithManyLocks() throws Exception {
        int tables = options.lockTables();
        int holders = (options.locks() + tables - 1) / tables;
        database.execute(IntStream.rangeClosed(1, tables)
            .mapToObj(i -> "CREATE TABLE scale.lock_" + i + " (id int)").toArray(String[]::new));
        database.execute("CREATE TABLE scale.victim (id int)");
        String lockAll = "LOCK TABLE " + IntStream.rangeClosed(1, tables).mapToObj(i -> "scale.lock_" + i)
            .collect(Collectors.joining(", ")) + " IN ACCESS SHARE MODE";
        List<Figure> figures = new ArrayList<>();
        List<Connection> lockHolders = openIdleInTransaction(holders, lockAll);
        List<Connection> blocker = openIdleInTransaction(1, "SELECT count(*) FROM scale.victim");
        try (Connection migration = database.connect("bench-migration")) {
            int migrationPid = pid(migration);
            CompletableFuture<Void> alter = runAsync(migration, "ALTER TABLE scale.victim ADD COLUMN c int",
                    new AtomicLong());
            awaitLockWait(migrationPid);
            long locks = ((Number) database.queryValue("SELECT count(*) FROM pg_locks")).longValue();
            BenchmarkRunner.progress("scale: %d locks in pg_locks (%d sessions x %d tables)", locks, holders,
                    tables);
            for (Duration interval : options.pollIntervals()) {
                pollCosts.add(measurePolls(migrationPid, interval, true));
            }
            closeAll(lockHolders);
            lockHolders = List.of();
            for (Duration interval : options.pollIntervals()) {
                pollCosts.add(measurePolls(migrationPid, interval, false));
            }
            closeAll(blocker);
            alter.get(30, TimeUnit.SECONDS);
            figures.add(new Figure(NAME, "pg_locks rows while measuring", "locks held", "locks",
                    List.of((double) locks), "≥ " + options.locks()));
        }
        finally {
            closeAll(lockHolders);
            closeAll(blocker);
        }
        for (PollCost cost : pollCosts) {
            String configuration = (cost.manyLocks() ? options.locks() + " locks" : "no other locks") + ", poll "
                    + cost.interval().toMillis() + " ms";
            Figure latency = new Figure(NAME, configuration, "poll query latency", "ms", cost.findMillis(),
                    cost.manyLocks() ? "≤ 5" : "");
            figures.add(new Figure(NAME, configuration, "poll query latency p50", "ms",
                    List.of(percentile(cost.findMillis(), 50)), ""));
            figures.add(new Figure(NAME, configuration, "poll query latency p99", "ms",
                    List.of(percentile(cost.findMillis(), 99)), cost.manyLocks() ? "≤ 5" : ""));
            figures.add(new Figure(NAME, configuration, "poll query latency max", "ms",
                    List.of(latency.max()), ""));
            figures.add(new Figure(NAME, configuration, "watcher backend CPU", "% of a core",
                    List.of(cost.serverCpuPercent())));
            figures.add(new Figure(NAME, configuration, "watcher thread CPU", "% of a core",
                    List.of(cost.clientCpuPercent())));
            figures.add(new Figure(NAME, configuration, "watcher statements", "per s",
                    List.of(cost.statementsPerSecond())));
            figures.add(new Figure(NAME, configuration, "transactions committed", "per s",
                    List.of(cost.commitsPerSecond())));
        }
        return figures;
    }

    // ---------------------------------------------------------------- a poll that finds nothing

    /**
     * Most polls of a real run: the watched backend waits for nothing. The watcher at the default poll interval
     * watches a session that runs no statement: its CPU in {@link #IDLE_RUNS} windows with untimed statements, the
     * poll's latency in one more window with timed ones.
     */
    List<Figure> pollFindingNothing() throws Exception {
        List<Double> server = new ArrayList<>();
        List<Double> client = new ArrayList<>();
        List<Double> total = new ArrayList<>();
        List<Double> p50 = new ArrayList<>();
        List<Double> floorServer = new ArrayList<>();
        List<Double> floorClient = new ArrayList<>();
        List<Double> floorTotal = new ArrayList<>();
        try (Connection migration = database.connect("bench-migration")) {
            for (int run = 0; run < IDLE_RUNS; run++) {
                PollCost idle = measurePolls(pid(migration), WatchSettings.DEFAULT_POLL_INTERVAL, false, false,
                        IDLE_WINDOW);
                server.add(idle.serverCpuPercent());
                client.add(idle.clientCpuPercent());
                total.add(idle.serverCpuPercent() + idle.clientCpuPercent());
                double[] floor = roundTripFloor(WatchSettings.DEFAULT_POLL_INTERVAL, IDLE_WINDOW);
                floorServer.add(floor[0]);
                floorClient.add(floor[1]);
                floorTotal.add(floor[0] + floor[1]);
            }
            PollCost timed = measurePolls(pid(migration), WatchSettings.DEFAULT_POLL_INTERVAL, false, true,
                    options.pollWindow());
            p50.add(percentile(timed.findMillis(), 50));
        }
        String nothing = "nothing blocks, poll " + WatchSettings.DEFAULT_POLL_INTERVAL.toMillis() + " ms";
        String floor = "floor: SELECT 1 every " + WatchSettings.DEFAULT_POLL_INTERVAL.toMillis() + " ms";
        return List.of(new Figure(NAME, nothing, "watcher backend CPU", "% of a core", server),
                new Figure(NAME, nothing, "watcher thread CPU", "% of a core", client),
                new Figure(NAME, nothing, "watcher CPU, backend + thread", "% of a core", total, "≤ 1"),
                new Figure(NAME, nothing, "poll query p50", "ms", p50),
                new Figure(NAME, floor, "backend CPU", "% of a core", floorServer),
                new Figure(NAME, floor, "thread CPU", "% of a core", floorClient),
                new Figure(NAME, floor, "backend + thread", "% of a core", floorTotal));
    }

    /**
     * The least any poll at this interval can cost: a thread of the benchmark's own waits the interval on a
     * condition, as the watcher does, then sends {@code SELECT 1} on a connection of its own, and again, for the
     * window. What the watcher's polls cost above this is the watcher's own work.
     * @return the backend's and the thread's CPU, in % of a core
     */
    private double[] roundTripFloor(Duration interval, Duration window) throws Exception {
        try (Connection connection = database.connect("bench-floor")) {
            int backend = pid(connection);
            AtomicLong threadCpu = new AtomicLong(-1);
            ReentrantLock lock = new ReentrantLock();
            Condition tick = lock.newCondition();
            long deadline = System.nanoTime() + window.toNanos();
            long[] serverBefore = new long[1];
            Thread poller = new Thread(() -> {
                ThreadMXBean threads = ManagementFactory.getThreadMXBean();
                try (PreparedStatement statement = connection.prepareStatement("SELECT 1")) {
                    serverBefore[0] = BackendCpu.readable(backend) ? BackendCpu.read(backend) : -1;
                    long cpuBefore = threads.getCurrentThreadCpuTime();
                    while (System.nanoTime() - deadline < 0) {
                        lock.lock();
                        try {
                            tick.awaitNanos(interval.toNanos());
                        }
                        finally {
                            lock.unlock();
                        }
                        try (ResultSet rows = statement.executeQuery()) {
                            rows.next();
                        }
                    }
                    threadCpu.set(threads.getCurrentThreadCpuTime() - cpuBefore);
                }
                catch (SQLException | InterruptedException ex) {
                    threadCpu.set(-1);
                }
            }, "bench-round-trip-floor");
            long start = System.nanoTime();
            poller.start();
            poller.join();
            long elapsed = System.nanoTime() - start;
            long serverAfter = serverBefore[0] < 0 ? -1 : BackendCpu.read(backend);
            double server = serverAfter < 0 ? Double.NaN : (serverAfter - serverBefore[0]) * 100.0 / elapsed;
            double client = threadCpu.get() < 0 ? Double.NaN : threadCpu.get() * 100.0 / elapsed;
            BenchmarkRunner.progress("round-trip floor, every %d ms: backend CPU %s %%, thread CPU %s %%",
                    interval.toMillis(), Figure.format(server), Figure.format(client));
            return new double[] { server, client };
        }
    }

    /** Windows measured for a poll that finds nothing: the median of three resists one burst of other load. */
    private static final int IDLE_RUNS = 3;

    /** Each window of a poll that finds nothing: 400 polls at the default interval. */
    private static final Duration IDLE_WINDOW = Duration.ofSeconds(10);

    private PollCost measurePolls(int migrationPid, Duration interval, boolean manyLocks) throws Exception {
        return measurePolls(migrationPid, interval, manyLocks, true, options.pollWindow());
    }

    /**
     * @param instrumented whether the watcher's statements are timed: the timing's proxies cost the watcher's
     *        thread CPU of their own, so a window that measures that CPU alone leaves them out
     */
    private PollCost measurePolls(int migrationPid, Duration interval, boolean manyLocks, boolean instrumented,
            Duration pollWindow) throws Exception {
        InstrumentedDataSource dataSource = new InstrumentedDataSource(database.dataSource());
        Duration window = pollWindow.compareTo(interval.multipliedBy(10)) < 0 ? interval.multipliedBy(10)
                : pollWindow;
        try (Watcher watcher = new Watcher(instrumented ? dataSource : database.dataSource(),
                WatchSettings.defaults().withPollInterval(interval),
                StandardBlockingAction.NONE, new GuardListener() {
                }).start()) {
            watcher.watch(migrationPid, "scale migration");
            awaitPolls(watcher, 2, interval);
            int backend = ((Number) database.queryValue("SELECT pid FROM pg_stat_activity "
                    + "WHERE application_name = ? AND datname = current_database()", Watcher.APPLICATION_NAME))
                .intValue();
            long threadId = watcherThreadId();
            ThreadMXBean threads = ManagementFactory.getThreadMXBean();
            dataSource.clear();
            long commitsBefore = commits();
            long serverBefore = BackendCpu.readable(backend) ? BackendCpu.read(backend) : -1;
            long clientBefore = threadId < 0 ? -1 : threads.getThreadCpuTime(threadId);
            long start = System.nanoTime();
            Thread.sleep(window.toMillis());
            long elapsed = System.nanoTime() - start;
            long serverAfter = serverBefore < 0 ? -1 : BackendCpu.read(backend);
            long clientAfter = clientBefore < 0 ? -1 : threads.getThreadCpuTime(threadId);
            long commitsAfter = commits();
            List<InstrumentedDataSource.Sample> samples = dataSource.samples();
            List<Double> find = InstrumentedDataSource.pollMillis(samples);
            PollCost cost = new PollCost(interval, manyLocks, find,
                    serverAfter < 0 || serverBefore < 0 ? Double.NaN : (serverAfter - serverBefore) * 100.0 / elapsed,
                    clientAfter < 0 || clientBefore < 0 ? Double.NaN : (clientAfter - clientBefore) * 100.0 / elapsed,
                    samples.size() / (elapsed / 1e9),
                    // the probe's own two queries to pg_stat_database commit too
                    (commitsAfter - commitsBefore - 1) / (elapsed / 1e9));
            BenchmarkRunner.progress("scale %s, poll %d ms: poll query p50 %s ms, p99 %s ms (%d polls); "
                    + "watcher backend CPU %s %%, watcher thread CPU %s %%, %s statements/s, %s commits/s",
                    manyLocks ? options.locks() + " locks" : "no other locks", interval.toMillis(),
                    Figure.format(percentile(find, 50)), Figure.format(percentile(find, 99)), find.size(),
                    Figure.format(cost.serverCpuPercent()), Figure.format(cost.clientCpuPercent()),
                    Figure.format(cost.statementsPerSecond()), Figure.format(cost.commitsPerSecond()));
            return cost;
        }
    }

    private static void awaitPolls(Watcher watcher, long polls, Duration interval) throws InterruptedException {
        long deadline = System.nanoTime() + interval.multipliedBy(polls + 20).toNanos() + 10_000_000_000L;
        while (watcher.polls() < polls && System.nanoTime() < deadline) {
            Thread.sleep(5);
        }
    }

    private static long watcherThreadId() {
        return Thread.getAllStackTraces().keySet().stream()
            .filter(t -> t.getName().startsWith("pgmigrate-watcher-") && t.isAlive())
            .mapToLong(Thread::getId).max().orElse(-1);
    }

    private long commits() throws SQLException {
        return ((Number) database.queryValue(
                "SELECT xact_commit FROM pg_stat_database WHERE datname = current_database()")).longValue();
    }

    static double percentile(List<Double> values, double percentile) {
        if (values.isEmpty()) {
            return Double.NaN;
        }
        List<Double> sorted = new ArrayList<>(values);
        Collections.sort(sorted);
        int index = (int) Math.ceil(percentile / 100.0 * sorted.size()) - 1;
        return sorted.get(Math.max(0, Math.min(sorted.size() - 1, index)));
    }

    // ---------------------------------------------------------------- sessions

    /** Opens sessions that run the statement in a transaction and stay idle in it. */
    private List<Connection> openIdleInTransaction(int count, String sql) throws Exception {
        ExecutorService pool = Executors.newFixedThreadPool(4, task -> {
            Thread thread = new Thread(task, "pgmigrate-bench-connect-" + threadNumbers.incrementAndGet());
            thread.setDaemon(true);
            return thread;
        });
        List<Future<Connection>> opening = new ArrayList<>();
        try {
            for (int i = 0; i < count; i++) {
                opening.add(pool.submit(() -> {
                    Connection connection = database.connect("bench-blocker");
                    connection.setAutoCommit(false);
                    try (Statement statement = connection.createStatement()) {
                        statement.execute(sql);
                    }
                    return connection;
                }));
            }
            List<Connection> connections = new ArrayList<>();
            for (Future<Connection> future : opening) {
                connections.add(future.get(120, TimeUnit.SECONDS));
            }
            return connections;
        }
        finally {
            pool.shutdown();
            pool.awaitTermination(30, TimeUnit.SECONDS);
        }
    }

    private CompletableFuture<Void> runAsync(Connection connection, String sql, AtomicLong doneNanos) {
        CompletableFuture<Void> result = new CompletableFuture<>();
        Thread thread = new Thread(() -> {
            try (Statement statement = connection.createStatement()) {
                statement.execute(sql);
                doneNanos.set(System.nanoTime());
                result.complete(null);
            }
            catch (Throwable ex) {
                result.completeExceptionally(ex);
            }
        }, "pgmigrate-bench-migration-" + threadNumbers.incrementAndGet());
        thread.setDaemon(true);
        thread.start();
        return result;
    }

    private void awaitLockWait(int pid) throws SQLException, InterruptedException {
        for (int i = 0; i < 1000; i++) {
            Object waiting = database.queryValue(
                    "SELECT wait_event_type = 'Lock' FROM pg_stat_activity WHERE pid = ?", pid);
            if (Boolean.TRUE.equals(waiting)) {
                return;
            }
            Thread.sleep(10);
        }
        throw new IllegalStateException("the migration session never waited for its lock");
    }

    private static int pid(Connection connection) throws SQLException {
        try (Statement statement = connection.createStatement();
                ResultSet rows = statement.executeQuery("SELECT pg_backend_pid()")) {
            rows.next();
            return rows.getInt(1);
        }
    }

    private static void closeAll(List<Connection> connections) {
        for (Connection connection : connections) {
            try {
                connection.close();
            }
            catch (SQLException ex) {
                // terminated by the watcher: closed on the server side already
            }
        }
    }
}
