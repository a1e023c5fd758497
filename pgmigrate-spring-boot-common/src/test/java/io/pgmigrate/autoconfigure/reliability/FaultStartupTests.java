package io.pgmigrate.autoconfigure.reliability;

import java.util.List;
import java.util.concurrent.CompletableFuture;

import io.pgmigrate.autoconfigure.metrics.PgMigrateMetrics;
import io.pgmigrate.core.internal.Watcher;
import io.pgmigrate.testsupport.PostgresTest;
import io.pgmigrate.testsupport.TestDatabase;
import io.pgmigrate.testsupport.TestSession;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

import org.springframework.boot.test.system.CapturedOutput;
import org.springframework.boot.test.system.OutputCaptureExtension;
import org.springframework.context.ConfigurableApplicationContext;

import static io.pgmigrate.autoconfigure.reliability.Startup.columnExists;
import static io.pgmigrate.autoconfigure.reliability.Startup.counter;
import static io.pgmigrate.autoconfigure.reliability.Startup.eventually;
import static io.pgmigrate.autoconfigure.reliability.Startup.finish;
import static io.pgmigrate.autoconfigure.reliability.Startup.startInBackground;
import static org.assertj.core.api.Assertions.assertThat;

/**
 * Issue 7: faults during a Spring Boot start-up, as the operator sees them: the start-up goes on, the log says
 * what happened, and the meters count it.
 */
@PostgresTest
@ExtendWith(OutputCaptureExtension.class)
class FaultStartupTests {

    private static final String WATCHER_FAILED = "pgmigrate: watcher poll failed";

    @Test
    void theWatchersConnectionKilledDuringStartUpIsCountedOnceAndTheApplicationStarts(TestDatabase database,
            CapturedOutput output) throws Exception {
        Startup.applyV1(database.dataSource(), "killed");
        // excluded, so the watcher sees it every poll and leaves it alone: the start-up waits until the test is done
        TestSession backup = database.session("backup-tool").begin().execute("SELECT count(*) FROM killed.accounts");
        CompletableFuture<ConfigurableApplicationContext> startup = startInBackground(database, "killed",
                List.of("pgmigrate.exclude-application-names=backup-tool"));
        eventually().until(() -> startup.isDone()
                || (Startup.migrationWaits(database) && !database.pidsOf(Watcher.APPLICATION_NAME).isEmpty()));
        int watcher = database.pidsOf(Watcher.APPLICATION_NAME).get(0);

        database.execute("SELECT pg_terminate_backend(" + watcher + ")");
        // the watcher reconnects at its next poll
        eventually().until(() -> startup.isDone() || database.pidsOf(Watcher.APPLICATION_NAME).stream()
            .anyMatch((pid) -> pid != watcher));
        assertThat(startup).isNotDone();
        backup.rollback();

        try (ConfigurableApplicationContext application = finish(startup)) {
            assertThat(columnExists(database, "killed")).isTrue();
            assertThat(counter(application, PgMigrateMetrics.WATCHER_ERRORS)).isEqualTo(1.0);
            assertThat(counter(application, PgMigrateMetrics.BLOCKERS, "action", "terminated")).isZero();
            assertThat(output.getOut().lines().filter((line) -> line.contains(WATCHER_FAILED))
                .filter((line) -> line.contains("WARN"))).singleElement()
                .satisfies((line) -> assertThat(line).contains("terminating connection due to administrator command"));
        }
        assertThat(backup.isAlive()).isTrue();
    }

    @Test
    void aWatcherWhoseQueriesAreDeniedIsCountedLoggedOnceAndTheApplicationStartsWhenTheBlockerEnds(
            TestDatabase database, CapturedOutput output) throws Exception {
        String migrator = database.createRole("denied");
        Startup.applyV1(database.dataSource(migrator, migrator), "denied");
        database.execute("REVOKE EXECUTE ON FUNCTION pg_blocking_pids(integer) FROM PUBLIC");
        try {
            TestSession report = database.session("reporting").begin()
                .execute("SELECT count(*) FROM denied.accounts");
            CompletableFuture<ConfigurableApplicationContext> startup = startInBackground(database, "denied",
                    List.of("spring.datasource.username=" + migrator, "spring.datasource.password=" + migrator));
            eventually().until(() -> startup.isDone()
                    || output.getOut().lines().filter((line) -> line.contains("permission denied for function "
                            + "pg_blocking_pids")).count() >= 3);
            assertThat(startup).as("the start-up waits; the watcher does not fail it").isNotDone();
            assertThat(report.isAlive()).isTrue();
            report.rollback();

            try (ConfigurableApplicationContext application = finish(startup)) {
                assertThat(columnExists(database, "denied")).isTrue();
                assertThat(counter(application, PgMigrateMetrics.WATCHER_ERRORS)).isGreaterThanOrEqualTo(1.0);
                assertThat(output.getOut().lines().filter((line) -> line.contains(WATCHER_FAILED))
                    .filter((line) -> line.contains("WARN"))).as("one WARN for an error that repeats")
                    .singleElement()
                    .satisfies((line) -> assertThat(line).contains("permission denied for function pg_blocking_pids"));
            }
        }
        finally {
            database.execute("GRANT EXECUTE ON FUNCTION pg_blocking_pids(integer) TO PUBLIC");
        }
    }

    @Test
    void aBlockerTheMigrationRoleMayNotSignalIsOneWarnNamingPgSignalBackendAndCountedAsIgnored(
            TestDatabase database, CapturedOutput output) throws Exception {
        String migrator = database.createRole("migrator");
        String app = database.createRole("app");
        Startup.applyV1(database.dataSource(migrator, migrator), "perm");
        database.execute("GRANT USAGE ON SCHEMA perm TO " + app, "GRANT SELECT ON perm.accounts TO " + app);
        TestSession report = database.sessionAs(app, "reporting").begin().execute("SELECT count(*) FROM perm.accounts");
        CompletableFuture<ConfigurableApplicationContext> startup = startInBackground(database, "perm",
                List.of("spring.datasource.username=" + migrator, "spring.datasource.password=" + migrator));
        eventually().until(() -> startup.isDone()
                || output.getOut().contains("pgmigrate: Cannot signal a session blocking"));
        assertThat(startup).isNotDone();
        assertThat(report.isAlive()).isTrue();

        database.execute("GRANT pg_signal_backend TO " + migrator);
        try (ConfigurableApplicationContext application = finish(startup)) {
            assertThat(columnExists(database, "perm")).isTrue();
            assertThat(report.isAlive()).isFalse();
            assertThat(counter(application, PgMigrateMetrics.BLOCKERS, "action", "ignored")).isEqualTo(1.0);
            assertThat(counter(application, PgMigrateMetrics.BLOCKERS, "action", "terminated")).isEqualTo(1.0);
            assertThat(counter(application, PgMigrateMetrics.WATCHER_ERRORS)).isZero();
            assertThat(output.getOut().lines().filter((line) -> line.contains("Cannot signal a session blocking")))
                .singleElement()
                .satisfies((line) -> assertThat(line).contains("WARN", "pid=" + report.pid(),
                        "GRANT pg_signal_backend TO " + migrator));
        }
    }
}
