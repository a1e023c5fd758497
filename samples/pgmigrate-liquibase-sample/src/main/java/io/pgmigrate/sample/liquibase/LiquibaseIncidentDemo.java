package io.pgmigrate.sample.liquibase;

import java.io.IOException;
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
import liquibase.Contexts;
import liquibase.LabelExpression;
import liquibase.Liquibase;
import liquibase.database.jvm.JdbcConnection;
import liquibase.resource.ClassLoaderResourceAccessor;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import org.springframework.boot.builder.SpringApplicationBuilder;
import org.springframework.context.ConfigurableApplicationContext;

/**
 * The incident of the Flyway sample's demo, on Liquibase: changeset {@code 1-create-orders} is in production, a
 * "report" reads {@code orders} and sits idle in transaction (it ends on its own {@code --demo.report-hold}, 15 s
 * by default, after the changeset starts waiting for it), the application keeps querying {@code orders}, and the new
 * version starts: Liquibase runs {@code 2-add-note}, an {@code ALTER TABLE} that waits for the report's lock. With
 * pgmigrate the report is terminated within a poll; run it with {@code --pgmigrate.enabled=false} to see the stall.
 * Other arguments go to Spring Boot.
 */
public final class LiquibaseIncidentDemo {

    private static final Logger log = LoggerFactory.getLogger(LiquibaseIncidentDemo.class);

    private static final String CHANGELOG = "db/changelog/orders.yaml";

    private static final int APPLICATION_THREADS = 4;

    private static final Duration QUERY_PACE = Duration.ofMillis(10);

    private LiquibaseIncidentDemo() {
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
        try (EmbeddedPostgres postgres = EmbeddedPostgres.builder().start()) {
            run(postgres.getJdbcUrl("postgres", "postgres"), reportHold, args);
        }
        catch (IOException ex) {
            throw new IllegalStateException("Could not start or stop the embedded PostgreSQL", ex);
        }
    }

    private static void run(String url, Duration reportHold, String[] args) throws Exception {
        try (Liquibase production = new Liquibase(CHANGELOG, new ClassLoaderResourceAccessor(),
                new JdbcConnection(DriverManager.getConnection(url, "postgres", "postgres")))) {
            production.update(1, new Contexts(), new LabelExpression());
        }
        log.info("demo: changeset 1-create-orders is in production; a report now holds a lock on orders");
        Report report = new Report(url, reportHold);
        Load load = new Load(url);
        load.start();
        long started = System.nanoTime();
        List<String> springArgs = new ArrayList<>(List.of(args));
        springArgs.add("--spring.datasource.url=" + url);
        springArgs.add("--spring.datasource.username=postgres");
        springArgs.add("--spring.datasource.password=postgres");
        log.info("demo: deploying the new version: Liquibase runs changeset 2-add-note (ALTER TABLE orders) at "
                + "start-up");
        try (ConfigurableApplicationContext context = new SpringApplicationBuilder(LiquibaseSampleApplication.class)
            .run(springArgs.toArray(String[]::new))) {
            Duration startup = Duration.ofNanos(System.nanoTime() - started);
            load.stop();
            report.end();
            log.info(String.format(Locale.ROOT,
                    "demo: application started in %.1f s; application queries: %d run, %d failed, longest wait %d ms; "
                            + "the report %s", startup.toMillis() / 1000.0, load.completed.get(), load.failed.get(),
                    load.longestMillis.get(), report.fate));
        }
        finally {
            load.stop();
            report.end();
        }
    }

    /** A long-running report: a transaction that read orders and stays open until the changeset waited long enough. */
    private static final class Report {

        private final Connection connection;

        private volatile String fate = "was still open";

        Report(String url, Duration hold) throws SQLException {
            connection = DriverManager.getConnection(url + "&ApplicationName=nightly-report", "postgres", "postgres");
            connection.setAutoCommit(false);
            try (Statement statement = connection.createStatement()) {
                statement.executeQuery("SELECT count(*), sum(total) FROM orders").close();
            }
            Thread timer = new Thread(() -> {
                if (changeSetWaited(url, hold)) {
                    end();
                }
            }, "demo-report-timer");
            timer.setDaemon(true);
            timer.start();
        }

        /** Whether the changeset waited for the report for {@code hold} (within a minute), so the report ends. */
        private boolean changeSetWaited(String url, Duration hold) {
            long deadline = System.nanoTime() + Duration.ofMinutes(1).toNanos();
            long waitingSince = 0;
            try (Connection probe = DriverManager.getConnection(url + "&ApplicationName=demo-probe", "postgres",
                    "postgres");
                    PreparedStatement waiting = probe.prepareStatement("SELECT EXISTS (SELECT 1 FROM pg_stat_activity "
                            + "WHERE wait_event_type = 'Lock' AND query ILIKE '%ALTER TABLE orders%')")) {
                while (System.nanoTime() < deadline && fate.equals("was still open")) {
                    try (ResultSet rows = waiting.executeQuery()) {
                        rows.next();
                        if (rows.getBoolean(1) && waitingSince == 0) {
                            waitingSince = System.nanoTime();
                        }
                    }
                    if (waitingSince != 0 && System.nanoTime() - waitingSince >= hold.toNanos()) {
                        return true;
                    }
                    Thread.sleep(QUERY_PACE.toMillis());
                }
            }
            catch (SQLException ex) {
                log.warn("demo: could not watch for the changeset: {}", ex.getMessage());
            }
            catch (InterruptedException ex) {
                Thread.currentThread().interrupt();
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
            }
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

        void start() throws InterruptedException {
            for (int i = 0; i < APPLICATION_THREADS; i++) {
                Thread thread = new Thread(this::queries, "demo-application-" + i);
                thread.setDaemon(true);
                threads.add(thread);
                thread.start();
            }
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
