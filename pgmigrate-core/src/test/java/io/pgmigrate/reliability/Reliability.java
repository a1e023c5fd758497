package io.pgmigrate.reliability;

import static org.awaitility.Awaitility.await;

import java.sql.SQLException;
import java.time.Duration;
import java.util.concurrent.Callable;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;

import javax.sql.DataSource;

import io.pgmigrate.core.GuardSettings;
import io.pgmigrate.testsupport.TestDatabase;
import org.awaitility.core.ConditionFactory;
import org.flywaydb.core.Flyway;
import org.flywaydb.core.api.configuration.FluentConfiguration;

/** Shared steps of the reliability tests. */
final class Reliability {

    /** Generous: the tests must pass on a loaded 2-core machine; a healthy run takes a fraction of it. */
    static final Duration DEADLINE = Duration.ofSeconds(60);

    private Reliability() {
    }

    /**
     * Runs {@code work} on a thread of its own (named {@code test-<name>}, not {@code pgmigrate-}, so the leak
     * checks do not count it); the future completes with its result or its exception.
     */
    static <T> CompletableFuture<T> inBackground(String name, Callable<T> work) {
        CompletableFuture<T> result = new CompletableFuture<>();
        Thread thread = new Thread(() -> {
            try {
                result.complete(work.call());
            }
            catch (Throwable ex) {
                result.completeExceptionally(ex);
            }
        }, "test-" + name);
        thread.setDaemon(true);
        thread.start();
        return result;
    }

    /** The outcome of a background run, waiting at most {@link #DEADLINE}. */
    static <T> T finish(CompletableFuture<T> work) throws Exception {
        try {
            return work.get(DEADLINE.toSeconds(), TimeUnit.SECONDS);
        }
        catch (ExecutionException ex) {
            if (ex.getCause() instanceof Exception cause) {
                throw cause;
            }
            throw ex;
        }
    }

    /** Whether a session of this database with the given application_name waits for a lock. */
    static boolean waitsForLock(TestDatabase db, String applicationName) throws SQLException {
        return Boolean.TRUE.equals(db.queryValue("SELECT EXISTS (SELECT 1 FROM pg_stat_activity "
                + "WHERE datname = current_database() AND application_name = ? AND wait_event_type = 'Lock')",
                applicationName));
    }

    static ConditionFactory eventually() {
        return await().atMost(DEADLINE).pollInterval(Duration.ofMillis(20));
    }

    /**
     * Watch settings that react fast; a lock timeout that bounds a migration that would otherwise wait
     * forever if the guard failed (the test then fails instead of hanging); the rest as a user would start.
     */
    static GuardSettings settings() {
        GuardSettings defaults = GuardSettings.defaults();
        return defaults.withWatch(defaults.watch().withPollInterval(Duration.ofMillis(20)))
            .withLockTimeout(Duration.ofSeconds(30));
    }

    /**
     * A plain Flyway for the migrations under {@code db/<location>}, with its own schema history table so
     * several tests of one class (one database) do not see each other's migrations; tables made by the test
     * are version 0.
     */
    static FluentConfiguration flyway(DataSource dataSource, String location, String historyTable) {
        return Flyway.configure()
            .dataSource(dataSource)
            .locations("classpath:db/" + location)
            .table(historyTable)
            .baselineOnMigrate(true)
            .baselineVersion("0");
    }

    static boolean hasColumn(TestDatabase db, String schema, String table, String column) throws SQLException {
        return Long.valueOf(1).equals(db.queryValue("SELECT count(*) FROM information_schema.columns "
                + "WHERE table_schema = ? AND table_name = ? AND column_name = ?", schema, table, column));
    }

    /** Whether any thread of pgmigrate (its names start with {@code pgmigrate-}) is alive in this JVM. */
    static boolean pgmigrateThreadAlive() {
        return Thread.getAllStackTraces().keySet().stream()
            .anyMatch((thread) -> thread.getName().startsWith("pgmigrate-") && thread.isAlive());
    }

    /** Sessions of this database whose application_name says they belong to pgmigrate. */
    static long pgmigrateSessions(TestDatabase db) throws SQLException {
        return (Long) db.queryValue("SELECT count(*) FROM pg_stat_activity "
                + "WHERE datname = current_database() AND application_name LIKE 'pgmigrate-%'");
    }

    /**
     * The query as it must appear in a log line: each run of whitespace or line breaks (including the Unicode
     * ones: NEL, LINE SEPARATOR, PARAGRAPH SEPARATOR) collapsed to one space.
     */
    static String oneLine(String text) {
        return text.replaceAll("[\\s\\u0085\\u2028\\u2029]+", " ").trim();
    }
}
