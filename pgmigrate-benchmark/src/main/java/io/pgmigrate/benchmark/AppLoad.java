package io.pgmigrate.benchmark;

import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.LockSupport;

import org.HdrHistogram.Histogram;

/**
 * The application: several threads, each with a connection of its own, reading one row of a table by
 * primary key at a fixed rate.
 * <p>
 * A query's latency is measured from the moment it was <em>meant</em> to start, on the thread's fixed
 * schedule, to its answer. A thread stuck behind a lock thus charges the whole stall to every query it
 * should have sent meanwhile, as a user waiting for the application would see it (no coordinated omission).
 * Queries run with a statement timeout, as an application's would; a query that fails is an error and its
 * latency still counts.
 */
final class AppLoad implements AutoCloseable {

    /** Latency and errors of the queries meant to start within a window. */
    record Window(Histogram latencies, int errors, int queries) {

        /** The longest latency, in milliseconds. */
        double maxMillis() {
            return latencies.getTotalCount() == 0 ? Double.NaN : latencies.getMaxValue() / 1000.0;
        }

        /** The 99th percentile, in milliseconds. */
        double p99Millis() {
            return latencies.getTotalCount() == 0 ? Double.NaN : latencies.getValueAtPercentile(99) / 1000.0;
        }
    }

    /** Longest an app thread runs, whatever happens: a safety bound, never reached by a healthy run. */
    private static final long MAX_RUN_NANOS = TimeUnit.MINUTES.toNanos(3);

    /** Where the application's connections come from. */
    @FunctionalInterface
    interface Connections {
        Connection connect() throws SQLException;
    }

    /** One query: when it was due ({@link System#nanoTime()}), how long it took from then, whether it failed. */
    record Query(long intendedNanos, long latencyNanos, boolean failed) {
    }

    private final Connections connections;
    private final String table;
    private final int rows;
    private final Duration period;
    private final Duration statementTimeout;
    private final List<Worker> workers = new ArrayList<>();

    AppLoad(BenchDatabase database, String table, int rows, int threads, Duration period,
            Duration statementTimeout) {
        this(() -> database.connect("bench-app"), table, rows, threads, period, statementTimeout);
    }

    AppLoad(Connections connections, String table, int rows, int threads, Duration period,
            Duration statementTimeout) {
        this.connections = connections;
        this.table = table;
        this.rows = rows;
        this.period = period;
        this.statementTimeout = statementTimeout;
        for (int i = 0; i < threads; i++) {
            workers.add(new Worker(i));
        }
    }

    /** Connects every thread and starts the load. */
    AppLoad start() throws SQLException {
        for (Worker worker : workers) {
            worker.connect();
        }
        long start = System.nanoTime();
        for (Worker worker : workers) {
            // threads are spread evenly over one period, as independent clients would be
            long offset = period.toNanos() * worker.number / workers.size();
            worker.thread = new Thread(() -> worker.run(start + offset), "pgmigrate-bench-app-" + worker.number);
            worker.thread.setDaemon(true);
            worker.thread.start();
        }
        return this;
    }

    /** Stops every thread and closes the connections. */
    @Override
    public void close() {
        for (Worker worker : workers) {
            worker.running = false;
        }
        for (Worker worker : workers) {
            try {
                if (worker.thread != null) {
                    worker.thread.join(TimeUnit.SECONDS.toMillis(30));
                }
            }
            catch (InterruptedException ex) {
                Thread.currentThread().interrupt();
            }
            worker.disconnect();
        }
    }

    /** The queries meant to start between the two {@link System#nanoTime()} values; call after close. */
    Window window(long fromNanos, long toNanos) {
        return window(queries(), fromNanos, toNanos);
    }

    /** Every query run so far; call after close. */
    List<Query> queries() {
        List<Query> queries = new ArrayList<>();
        for (Worker worker : workers) {
            for (int i = 0; i < worker.count; i++) {
                queries.add(new Query(worker.intended[i], worker.latency[i], worker.failed[i]));
            }
        }
        return queries;
    }

    /**
     * The queries meant to start between the two {@link System#nanoTime()} values. Linux's monotonic clock, behind
     * {@code nanoTime}, is one for the whole machine: values of other JVMs on it compare.
     */
    static Window window(List<Query> queries, long fromNanos, long toNanos) {
        Histogram histogram = new Histogram(TimeUnit.MINUTES.toMicros(5), 3);
        int errors = 0;
        int count = 0;
        for (Query query : queries) {
            if (query.intendedNanos() >= fromNanos && query.intendedNanos() <= toNanos) {
                histogram.recordValue(Math.min(histogram.getHighestTrackableValue(),
                        Math.max(0, query.latencyNanos() / 1000)));
                count++;
                if (query.failed()) {
                    errors++;
                }
            }
        }
        return new Window(histogram, errors, count);
    }

    private final class Worker {

        final int number;
        volatile boolean running = true;
        Thread thread;
        Connection connection;
        PreparedStatement query;

        long[] intended = new long[4096];
        long[] latency = new long[4096];
        boolean[] failed = new boolean[4096];
        int count;

        Worker(int number) {
            this.number = number;
        }

        void connect() throws SQLException {
            connection = connections.connect();
            try (Statement statement = connection.createStatement()) {
                statement.execute("SET statement_timeout = " + statementTimeout.toMillis());
            }
            query = connection.prepareStatement("SELECT val FROM " + table + " WHERE id = ?");
        }

        void disconnect() {
            try {
                if (connection != null) {
                    connection.close();
                }
            }
            catch (SQLException ex) {
                // a connection that failed is closed already
            }
        }

        void run(long start) {
            long next = start;
            while (running && next - start < MAX_RUN_NANOS) {
                long wait = next - System.nanoTime();
                if (wait > 0) {
                    LockSupport.parkNanos(wait);
                    continue;
                }
                boolean error = false;
                try {
                    if (query == null) {
                        connect();
                    }
                    query.setLong(1, ThreadLocalRandom.current().nextLong(1, rows + 1L));
                    try (ResultSet result = query.executeQuery()) {
                        result.next();
                    }
                }
                catch (SQLException ex) {
                    error = true;
                    if (isBroken()) {
                        disconnect();
                        query = null;
                    }
                }
                add(next, System.nanoTime() - next, error);
                next += period.toNanos();
            }
        }

        private boolean isBroken() {
            try {
                return connection == null || connection.isClosed() || !connection.isValid(1);
            }
            catch (SQLException ex) {
                return true;
            }
        }

        private void add(long intendedStart, long nanos, boolean error) {
            if (count == intended.length) {
                intended = Arrays.copyOf(intended, count * 2);
                latency = Arrays.copyOf(latency, count * 2);
                failed = Arrays.copyOf(failed, count * 2);
            }
            intended[count] = intendedStart;
            latency[count] = nanos;
            failed[count] = error;
            count++;
        }
    }
}
