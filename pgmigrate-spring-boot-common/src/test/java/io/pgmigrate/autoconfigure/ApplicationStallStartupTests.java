package io.pgmigrate.autoconfigure;

import io.pgmigrate.autoconfigure.metrics.PgMigrateMetrics;
import java.sql.SQLException;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.Executor;
import java.util.concurrent.TimeUnit;

import io.micrometer.core.instrument.MeterRegistry;
import io.pgmigrate.flyway.ApplicationStallException;
import io.pgmigrate.flyway.FlywayGuard;
import io.pgmigrate.testsupport.PostgresTest;
import io.pgmigrate.testsupport.TestDatabase;
import io.pgmigrate.testsupport.TestSession;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

import org.springframework.boot.diagnostics.FailureAnalysis;
import org.springframework.boot.test.system.CapturedOutput;
import org.springframework.boot.test.system.OutputCaptureExtension;
import org.springframework.context.ConfigurableApplicationContext;
import org.springframework.mock.env.MockEnvironment;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowable;
import static org.awaitility.Awaitility.await;

/**
 * Applications starting while a session pgmigrate keeps (its application name is excluded) blocks the migration and
 * an application query queues behind the migration: pgmigrate.max-application-stall cancels the migration's wait, so
 * the query goes through; the start-up retries the migration (pgmigrate.lock-retries, no lock timeout needed), or
 * fails with an analysis that says what to do.
 */
@PostgresTest
@ExtendWith(OutputCaptureExtension.class)
class ApplicationStallStartupTests {

    private static final Duration DEADLINE = Duration.ofSeconds(60);

    private static final String MIGRATION = "2 (add email)";

    /** A thread for each start: on Java 25 CompletableFuture would run it on the common pool's one worker. */
    private static final Executor THREADS = (task) -> {
        Thread thread = new Thread(task, "test-startup");
        thread.setDaemon(true);
        thread.start();
    };

    @Test
    void theApplicationGoesThroughAndTheRetryMigratesOnceTheBlockerEnds(TestDatabase database) throws Exception {
        TestSession blocker = TestApplications.accountsBlocker(database, "stall_retry");
        CompletableFuture<ConfigurableApplicationContext> starting = CompletableFuture.supplyAsync(() -> TestApplications.startAccounts(database,
                "stall_retry", List.of("pgmigrate.exclude-application-names=reporting",
                        "pgmigrate.max-application-stall=1s", "pgmigrate.lock-retries=1",
                        "pgmigrate.lock-retry-delay=100ms")), THREADS);
        try (TestSession app = database.session("app")) {
            await().atMost(DEADLINE).until(() -> migrationWaits(database));
            CompletableFuture<Void> query = app.executeAsync("SELECT count(*) FROM stall_retry.accounts");

            query.get(DEADLINE.toSeconds(), TimeUnit.SECONDS);
            assertThat(blocker.isAlive()).isTrue();
            // the retry waits with nobody queued behind it, until the blocker ends
            await().atMost(DEADLINE).until(() -> migrationWaits(database));
            blocker.rollback();
        }
        try (ConfigurableApplicationContext application = starting.get(DEADLINE.toSeconds(), TimeUnit.SECONDS)) {
            assertThat(TestApplications.accountsHaveEmail(database, "stall_retry")).isTrue();
            MeterRegistry registry = application.getBean(MeterRegistry.class);
            assertThat(registry.get(PgMigrateMetrics.WAIT_CANCELLATIONS).tag("reason", "stall").counter()
                .count()).isEqualTo(1.0);
            assertThat(registry.get(PgMigrateMetrics.WAIT_CANCELLATIONS).tag("reason", "interrupt").counter().count())
                .isZero();

            List<Map<String, Object>> runs = TestApplications.list(TestApplications.getJson(application, "/actuator/pgmigrate").get("runs"));
            assertThat(runs).singleElement().satisfies((run) -> {
                assertThat(run).containsEntry("outcome", "success");
                assertThat(TestApplications.list(run.get("waitsCancelled"))).singleElement().satisfies((cancelled) -> {
                    Map<String, Object> wait = TestApplications.map(cancelled);
                    assertThat(wait).containsEntry("migration", "migration " + MIGRATION)
                        .containsEntry("reason", "application_stall")
                        .containsEntry("waitingFor", "stall_retry.accounts")
                        .containsEntry("maxApplicationStall", "1s");
                    assertThat(((Number) wait.get("queuedSessions")).intValue()).isEqualTo(1);
                    assertThat(TestApplications.list(wait.get("kept"))).singleElement()
                        .satisfies((kept) -> assertThat(TestApplications.map(kept)).containsEntry("pid", blocker.pid())
                            .containsEntry("outcome", "excluded"));
                });
            });
        }
    }

    @Test
    void withoutRetriesTheStartUpFailsWithAnAnalysisThatSaysWhatToDo(TestDatabase database, CapturedOutput output)
            throws Exception {
        TestSession blocker = TestApplications.accountsBlocker(database, "stall_fails");
        CompletableFuture<Throwable> failed = CompletableFuture.supplyAsync(() -> catchThrowable(() -> TestApplications.startAccounts(database,
                "stall_fails", List.of("pgmigrate.exclude-application-names=reporting",
                        "pgmigrate.max-application-stall=1s"))
            .close()), THREADS);
        try (TestSession app = database.session("app")) {
            await().atMost(DEADLINE).until(() -> migrationWaits(database));
            app.executeAsync("SELECT count(*) FROM stall_fails.accounts").get(DEADLINE.toSeconds(), TimeUnit.SECONDS);
        }
        Throwable failure = failed.get(DEADLINE.toSeconds(), TimeUnit.SECONDS);

        assertThat(failure).isNotNull();
        assertThat(blocker.isAlive()).isTrue();
        assertThat(TestApplications.accountsHaveEmail(database, "stall_fails")).isFalse();
        ApplicationStallException stall = TestApplications.cause(failure, ApplicationStallException.class);
        assertThat(stall.migration()).isEqualTo(MIGRATION);
        assertThat(stall.attempts()).isEqualTo(1);

        FailureAnalysis analysis = new ApplicationStallFailureAnalyzer(new MockEnvironment()).analyze(failure);
        assertThat(analysis.getDescription()).contains("Migration " + MIGRATION + " waited for a lock on "
                + "stall_fails.accounts while 1 application session queued behind it")
            .contains("pgmigrate.max-application-stall (1s)")
            .contains("rolled the migration back on its only attempt")
            .contains("pid " + blocker.pid())
            .contains("kept: excluded (application_name=reporting is excluded)");
        assertThat(analysis.getAction()).contains("pg_terminate_backend(" + blocker.pid() + ")")
            .contains("pgmigrate.exclude-application-names")
            .contains("pgmigrate.lock-retries (now 0)")
            .contains("raise pgmigrate.max-application-stall (now 1s)");

        // registered in spring.factories: Spring Boot itself printed the analysis instead of a stack trace
        assertThat(output).contains("APPLICATION FAILED TO START")
            .contains("Migration " + MIGRATION + " waited for a lock")
            .contains("pid " + blocker.pid());
    }

    private static boolean migrationWaits(TestDatabase database) throws SQLException {
        return ((Long) database.queryValue("SELECT count(*) FROM pg_stat_activity WHERE application_name = ? "
                + "AND wait_event_type = 'Lock'", FlywayGuard.APPLICATION_NAME)) > 0;
    }
}
