package io.pgmigrate.sample;

import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;

import io.zonky.test.db.postgres.embedded.EmbeddedPostgres;
import org.flywaydb.core.Flyway;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import org.springframework.boot.builder.SpringApplicationBuilder;
import org.springframework.context.ConfigurableApplicationContext;

/**
 * Reproduces the incident pgmigrate prevents, then deploys the application over it.
 * <ol>
 * <li>Version 1 of the schema is in production: table {@code orders}.</li>
 * <li>A "report" opens a transaction, reads {@code orders} and sits idle in transaction; it ends on its own
 * {@code --demo.report-hold} (15 s by default) after the migration starts waiting for it, so the demo always
 * ends.</li>
 * <li>The application keeps querying {@code orders} from a few threads.</li>
 * <li>The new version starts: Flyway runs {@code V2__add_order_note.sql}, an {@code ALTER TABLE} that
 * waits for the report's lock, and every application query on {@code orders} queues behind it.</li>
 * </ol>
 * With pgmigrate the report is terminated within a poll and the application barely notices; run it with
 * {@code --pgmigrate.enabled=false} to see the stall. Other arguments go to Spring Boot, so
 * {@code --pgmigrate.blocking-action=show} works too.
 */
public final class IncidentDemo {

    private static final Logger log = LoggerFactory.getLogger(IncidentDemo.class);

    private static final int APPLICATION_THREADS = 4;
    private static final Duration QUERY_PACE = Duration.ofMillis(10);

    private IncidentDemo() {
    }

    /** Runs the demo and exits. */
    public static void main(String[] args) throws Exception {
        Duration reportHold = Duration.ofSeconds(15);
        for (String arg : args) {
            if (arg.startsWith("--demo.report-hold=")) {
                reportHold = Duration.ofSeconds(Long.parseLong(arg.substring("--demo.report-hold=".length())
                    .replace("s", "")));
            }
        }
        EmbeddedPostgres postgres = LocalPostgres.start();
        try {
            run(postgres, reportHold, args);
        }
        finally {
            LocalPostgres.stop(postgres);
        }
    }

    private static void run(EmbeddedPostgres postgres, Duration reportHold, String[] args) throws Exception {
        String url = postgres.getJdbcUrl("postgres", "postgres");
        Flyway.configure().dataSource(url, "postgres", "postgres").locations("classpath:db/migration")
            .target("1").load().migrate();
        log.info("demo: schema version 1 is in production; a report now holds a lock on orders");

        Report report = new Report(url, reportHold);
        Load load = new Load(url);
        load.start();
        load.awaitWarm();

        long started = System.nanoTime();
        List<String> springArgs = new ArrayList<>(List.of(args));
        springArgs.add("--spring.profiles.active=demo");
        springArgs.add("--spring.datasource.url=" + url);
        springArgs.add("--spring.datasource.username=postgres");
        springArgs.add("--spring.datasource.password=postgres");
        log.info("demo: deploying the new version: Flyway runs V2 (ALTER TABLE orders) at start-up");
        try (ConfigurableApplicationContext context = new SpringApplicationBuilder(SampleApplication.class)
            .run(springArgs.toArray(String[]::new))) {
            Duration startup = Duration.ofNanos(System.nanoTime() - started);
            load.stop();
            report.end();
            log.info(String.format(Locale.ROOT,
                    "demo: application started in %.1f s; application queries: %d run, %d failed, "
                            + "longest wait %d ms; the report %s",
                    startup.toMillis() / 1000.0, load.completed.get(), load.failed.get(),
                    load.longestMillis.get(), report.fate()));
        }
        finally {
            load.stop();
            report.end();
        }
    }

    /** A long-running report: a transaction that read orders and stays open. */
    private static final class Report {

        private final Connection connection;
        private final Thread timer;
        private volatile String fate = "was still open";

        Report(String url, Duration hold) throws SQLException {
            connection = DriverManager.getConnection(url + "&ApplicationName=nightly-report", "postgres", "postgres");
            connection.setAutoCommit(false);
            try (Statement statement = connection.createStatement()) {
                statement.executeQuery("SELECT count(*), sum(total) FROM orders").close();
            }
            timer = new Thread(() -> {
                try {
                    if (awaitMigrationWaiting(url)) {
                        Thread.sleep(hold.toMillis());
                    }
                    end();
                }
                catch (InterruptedException ex) {
                    Thread.currentThread().interrupt();
                }
            }, "demo-report-timer");
            timer.setDaemon(true);
            timer.start();
        }

        /**
         * The report runs on for {@code hold} once the migration waits for its lock, however long the
         * application took to start. Returns false if the report ended first (the guard terminated it) or the
         * migration never waited within a minute.
         */
        private boolean awaitMigrationWaiting(String url) throws InterruptedException {
            long deadline = System.nanoTime() + Duration.ofMinutes(1).toNanos();
            try (Connection probe = DriverManager.getConnection(url + "&ApplicationName=demo-probe", "postgres",
                    "postgres");
                    PreparedStatement waiting = probe.prepareStatement("SELECT EXISTS (SELECT 1 FROM pg_stat_activity "
                            + "WHERE wait_event_type = 'Lock' AND query ILIKE '%ALTER TABLE orders%')")) {
                while (System.nanoTime() < deadline && fate.equals("was still open")) {
                    try (ResultSet rows = waiting.executeQuery()) {
                        rows.next();
                        if (rows.getBoolean(1)) {
                            return true;
                        }
                    }
                    Thread.sleep(QUERY_PACE.toMillis());
                }
            }
            catch (SQLException ex) {
                log.warn("demo: could not watch for the migration: {}", ex.getMessage());
            }
            return false;
        }

        synchronized void end() {
            if (!fate.equals("was still open")) {
                return;
            }
            try {
                connection.rollback();
                fate = "finished on its own";
            }
            catch (SQLException ex) {
                fate = "was terminated (" + ex.getMessage().lines().findFirst().orElse("") + ")";
            }
            finally {
                try {
                    connection.close();
                }
                catch (SQLException ex) {
                    // already gone
                }
                timer.interrupt();
            }
        }

        String fate() {
            return fate;
        }
    }

    /** The application's traffic: short queries on orders from a few threads, with the longest wait kept. */
    private static final class Load {

        private final String url;
        private final AtomicBoolean running = new AtomicBoolean(true);
        private final List<Thread> threads = new ArrayList<>();
        final AtomicLong completed = new AtomicLong();
        final AtomicLong failed = new AtomicLong();
        final AtomicLong longestMillis = new AtomicLong();

        Load(String url) {
            this.url = url;
        }

        void start() {
            for (int i = 0; i < APPLICATION_THREADS; i++) {
                Thread thread = new Thread(this::queries, "demo-application-" + i);
                thread.setDaemon(true);
                threads.add(thread);
                thread.start();
            }
        }

        void awaitWarm() throws InterruptedException {
            while (completed.get() < APPLICATION_THREADS * 5L) {
                Thread.sleep(QUERY_PACE.toMillis());
            }
        }

        private void queries() {
            try (Connection connection = DriverManager.getConnection(url + "&ApplicationName=application",
                    "postgres", "postgres");
                    PreparedStatement query = connection.prepareStatement("SELECT total FROM orders WHERE id = ?")) {
                while (running.get()) {
                    long start = System.nanoTime();
                    try {
                        query.setLong(1, ThreadLocalRandom.current().nextLong(1, 10_001));
                        try (ResultSet rows = query.executeQuery()) {
                            rows.next();
                        }
                        completed.incrementAndGet();
                    }
                    catch (SQLException ex) {
                        failed.incrementAndGet();
                    }
                    longestMillis.accumulateAndGet(Duration.ofNanos(System.nanoTime() - start).toMillis(), Math::max);
                    Thread.sleep(QUERY_PACE.toMillis());
                }
            }
            catch (SQLException ex) {
                failed.incrementAndGet();
            }
            catch (InterruptedException ex) {
                Thread.currentThread().interrupt();
            }
        }

        void stop() throws InterruptedException {
            running.set(false);
            for (Thread thread : threads) {
                thread.join(Duration.ofSeconds(30).toMillis());
            }
        }
    }
}
