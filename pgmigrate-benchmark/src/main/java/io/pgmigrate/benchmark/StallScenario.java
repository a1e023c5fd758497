package io.pgmigrate.benchmark;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;

import io.pgmigrate.core.Blocker;
import org.flywaydb.core.Flyway;
import org.flywaydb.core.api.configuration.FluentConfiguration;

/**
 * Scenario 1: the application's stall while a migration waits for a session idle in transaction.
 * <p>
 * One run: a table of 100,000 rows; the application reads it from several threads at a fixed rate; a
 * blocker opens a transaction, reads the table and stays idle in transaction (10 s in the published run); then
 * Flyway runs a migration that adds a column to the table. Its {@code ALTER TABLE} queues for an ACCESS EXCLUSIVE lock
 * behind the blocker, and every application query queues behind the {@code ALTER TABLE}: the application
 * stalls until the blocker ends, by itself or by pgmigrate.
 * <p>
 * The blocker also holds a transaction-level advisory lock that a sentinel session waits for, so the
 * moment the blocker's locks are released is known exactly, whoever ended it.
 */
final class StallScenario {

    static final String NAME = "stall";
    static final int ROWS = 100_000;
    private static final long ADVISORY_KEY = 7_410_001L;

    /** What one run measured. */
    record Run(double maxMillis, double p99Millis, int errors, int queries, double wallSeconds,
            double lockWaitToBlockerEndMillis, boolean migrated) {
    }

    private final BenchDatabase database;
    private final BenchmarkOptions options;
    private final Path migrations;
    private int runNumber;

    StallScenario(BenchDatabase database, BenchmarkOptions options) throws IOException {
        this.database = database;
        this.options = options;
        this.migrations = Files.createTempDirectory("pgmigrate-bench-stall");
        Files.writeString(migrations.resolve("V1__add_note_to_items.sql"),
                "ALTER TABLE items ADD COLUMN note text;\n");
    }

    /** Runs every migrator the given number of times, interleaved, and returns the figures. */
    List<Figure> run(List<Migrator> migrators) throws Exception {
        List<List<Run>> runs = new ArrayList<>();
        migrators.forEach(m -> runs.add(new ArrayList<>()));
        for (int repetition = 0; repetition < options.runs(); repetition++) {
            for (int i = 0; i < migrators.size(); i++) {
                Migrator migrator = migrators.get(i);
                Run run = runOnce(migrator);
                runs.get(i).add(run);
                BenchmarkRunner.progress("stall %-38s run %d/%d: max %s ms, p99 %s ms, errors %d, wall %s s, "
                        + "lock wait to blocker end %s ms%s", migrator.name(), repetition + 1, options.runs(),
                        Figure.format(run.maxMillis()), Figure.format(run.p99Millis()), run.errors(),
                        Figure.format(run.wallSeconds()), Figure.format(run.lockWaitToBlockerEndMillis()),
                        run.migrated() ? "" : " (migration failed)");
            }
        }
        List<Figure> figures = new ArrayList<>();
        for (int i = 0; i < migrators.size(); i++) {
            String name = migrators.get(i).name();
            List<Run> measured = runs.get(i);
            figures.add(new Figure(NAME, name, "app max latency", "ms", values(measured, Run::maxMillis),
                    "≤ 50 (defaults)"));
            figures.add(new Figure(NAME, name, "app p99 latency", "ms", values(measured, Run::p99Millis)));
            figures.add(new Figure(NAME, name, "app errors", "queries", values(measured, r -> r.errors()),
                    "0 (defaults)"));
            figures.add(new Figure(NAME, name, "app queries", "queries", values(measured, r -> r.queries())));
            figures.add(new Figure(NAME, name, "migration wall time", "s", values(measured, Run::wallSeconds)));
            figures.add(new Figure(NAME, name, "lock wait to blocker end", "ms",
                    values(measured, Run::lockWaitToBlockerEndMillis)));
            figures.add(new Figure(NAME, name, "migration succeeded", "runs",
                    values(measured, r -> r.migrated() ? 1 : 0)));
        }
        return figures;
    }

    private static List<Double> values(List<Run> runs, java.util.function.ToDoubleFunction<Run> metric) {
        return runs.stream().map(r -> metric.applyAsDouble(r)).toList();
    }

    private Run runOnce(Migrator migrator) throws Exception {
        String schema = "stall_" + (++runNumber);
        String table = schema + ".items";
        database.execute("CREATE SCHEMA " + schema,
                "CREATE TABLE " + table + " (id bigint PRIMARY KEY, val int NOT NULL, payload text NOT NULL)",
                "INSERT INTO " + table + " SELECT g, g % 1000, md5(g::text) FROM generate_series(1, " + ROWS
                        + ") AS g",
                "ANALYZE " + table);
        Blocker blocker = null;
        AppLoad load = new AppLoad(database, table, ROWS, options.appThreads(), options.appPeriod(),
                options.appStatementTimeout());
        try {
            load.start();
            Thread.sleep(options.warmup().toMillis());
            blocker = new Blocker(table, options.blockerHold());
            Thread.sleep(500);

            MigrationProbe probe = new MigrationProbe();
            FluentConfiguration configuration = Flyway.configure()
                .dataSource(database.dataSource())
                .schemas(schema)
                .locations("filesystem:" + migrations)
                // the table exists before Flyway's first migration, as in an application's schema
                .baselineOnMigrate(true)
                .baselineVersion("0")
                .cleanDisabled(true);
            boolean migrated = true;
            long start = System.nanoTime();
            try {
                migrator.migrate(configuration, probe);
            }
            catch (RuntimeException ex) {
                migrated = false;
                BenchmarkRunner.progress("stall %s: migration failed: %s", migrator.name(), ex.getMessage());
            }
            long end = System.nanoTime();
            Thread.sleep(200);
            load.close();
            long blockerEnd = blocker.awaitEnd();
            AppLoad.Window window = load.window(start, end);
            double lockWaitToEnd = probe.firstStartNanos() == 0 || blockerEnd == 0 ? Double.NaN
                    : (blockerEnd - probe.firstStartNanos()) / 1e6;
            return new Run(window.maxMillis(), window.p99Millis(), window.errors(), window.queries(),
                    (end - start) / 1e9, lockWaitToEnd, migrated);
        }
        finally {
            load.close();
            if (blocker != null) {
                blocker.close();
            }
            database.terminateOthers();
            database.execute("DROP SCHEMA " + schema + " CASCADE");
        }
    }

    /** The session idle in transaction, and the sentinel that notes when it ends. */
    private final class Blocker implements AutoCloseable {

        private final Connection connection;
        private final Connection sentinel;
        private final CountDownLatch stop = new CountDownLatch(1);
        private final AtomicLong endNanos = new AtomicLong();
        private final Thread holder;
        private final Thread watcher;

        Blocker(String table, Duration hold) throws SQLException, InterruptedException {
            connection = database.connect(Migrators.BLOCKER_APPLICATION_NAME);
            connection.setAutoCommit(false);
            try (Statement statement = connection.createStatement()) {
                statement.execute("SELECT pg_advisory_xact_lock(" + ADVISORY_KEY + ")");
                statement.execute("SELECT count(*) FROM " + table + " WHERE id <= 10");
            }
            long deadline = System.nanoTime() + hold.toNanos();
            holder = new Thread(() -> hold(deadline), "pgmigrate-bench-blocker");
            holder.setDaemon(true);
            holder.start();

            sentinel = database.connect("bench-sentinel");
            watcher = new Thread(this::awaitRelease, "pgmigrate-bench-sentinel");
            watcher.setDaemon(true);
            watcher.start();
            awaitSentinelWaiting();
        }

        private void hold(long deadline) {
            try {
                stop.await(Math.max(0, deadline - System.nanoTime()), TimeUnit.NANOSECONDS);
                connection.commit();
            }
            catch (InterruptedException ex) {
                Thread.currentThread().interrupt();
            }
            catch (SQLException ex) {
                // terminated by pgmigrate: its transaction is gone already
            }
        }

        private void awaitRelease() {
            try (Statement statement = sentinel.createStatement()) {
                statement.execute("SELECT pg_advisory_lock(" + ADVISORY_KEY + ")");
                endNanos.set(System.nanoTime());
                statement.execute("SELECT pg_advisory_unlock(" + ADVISORY_KEY + ")");
            }
            catch (SQLException ex) {
                // closed at the end of a run that failed
            }
        }

        private void awaitSentinelWaiting() throws SQLException, InterruptedException {
            for (int i = 0; i < 500; i++) {
                Object waiting = database.queryValue("SELECT count(*) FROM pg_stat_activity "
                        + "WHERE application_name = 'bench-sentinel' AND wait_event_type = 'Lock'");
                if (((Number) waiting).intValue() > 0) {
                    return;
                }
                Thread.sleep(10);
            }
            throw new IllegalStateException("the sentinel session never waited for the blocker");
        }

        /** Waits, bounded, for the blocker to end; {@link System#nanoTime()} when its locks went. */
        long awaitEnd() throws InterruptedException {
            watcher.join(TimeUnit.SECONDS.toMillis(60));
            return endNanos.get();
        }

        @Override
        public void close() {
            stop.countDown();
            try {
                holder.join(TimeUnit.SECONDS.toMillis(10));
                watcher.join(TimeUnit.SECONDS.toMillis(10));
            }
            catch (InterruptedException ex) {
                Thread.currentThread().interrupt();
            }
            for (Connection c : List.of(connection, sentinel)) {
                try {
                    c.close();
                }
                catch (SQLException ex) {
                    // already gone
                }
            }
        }
    }
}
