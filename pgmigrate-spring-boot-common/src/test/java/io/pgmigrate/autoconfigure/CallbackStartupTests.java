package io.pgmigrate.autoconfigure;

import java.sql.SQLException;
import java.time.Duration;
import java.util.List;
import java.util.Map;

import io.pgmigrate.flyway.CallbackLockTimeoutException;
import io.pgmigrate.testsupport.PostgresTest;
import io.pgmigrate.testsupport.TestDatabase;
import io.pgmigrate.testsupport.TestSession;
import org.awaitility.Awaitility;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

import org.springframework.boot.diagnostics.FailureAnalysis;
import org.springframework.boot.test.system.CapturedOutput;
import org.springframework.boot.test.system.OutputCaptureExtension;
import org.springframework.context.ConfigurableApplicationContext;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowable;
import static org.junit.jupiter.api.Assertions.assertTimeoutPreemptively;

/**
 * A whole application whose Flyway applies V1 (a table) and then runs {@code afterMigrate.sql}, which refreshes a
 * materialized view that a dashboard reads in an open transaction; each test in a schema of its own.
 */
@PostgresTest
@ExtendWith(OutputCaptureExtension.class)
class CallbackStartupTests {

    private static final Duration DEADLINE = Duration.ofSeconds(90);

    @Test
    void theDashboardThatHoldsUpTheRefreshIsTerminatedAndTheApplicationStarts(TestDatabase database,
            CapturedOutput output) throws Exception {
        TestSession dashboard = dashboard(database, "refresh_rescued");
        // a lock timeout only makes the start-up fail fast where the callback is not guarded
        try (ConfigurableApplicationContext application = assertTimeoutPreemptively(DEADLINE,
                () -> start(database, "refresh_rescued", "pgmigrate.lock-timeout=10s"))) {
            assertThat(application.isRunning()).isTrue();
        }
        Awaitility.await().atMost(DEADLINE).until(() -> !dashboard.isAlive());
        assertThat(database.queryValue("SELECT total FROM refresh_rescued.order_totals")).isEqualTo(50500L);
        assertThat(output.getOut().lines()
            .filter((line) -> line.contains("pgmigrate: Terminated a session blocking callback afterMigrate:")
                    && line.contains("application=dashboard")))
            .hasSize(1);
    }

    @Test
    void aRefreshThatHitsTheLockTimeoutFailsTheStartupWithAnAnalysisThatNamesTheCallback(TestDatabase database,
            CapturedOutput output) throws Exception {
        TestSession dashboard = dashboard(database, "refresh_kept");
        Throwable failure = assertTimeoutPreemptively(DEADLINE, () -> catchThrowable(() -> start(database,
                "refresh_kept", "pgmigrate.lock-timeout=1s", "pgmigrate.lock-retries=2",
                "pgmigrate.lock-retry-delay=50ms", "pgmigrate.blocking-action=show").close()));

        CallbackLockTimeoutException cause = TestApplications.cause(failure, CallbackLockTimeoutException.class);
        assertThat(cause.event()).isEqualTo("afterMigrate");
        assertThat(cause.migrationsApplied()).isEqualTo(1);
        assertThat(dashboard.isAlive()).isTrue();
        assertThat(database.queryValue("SELECT success FROM refresh_kept.flyway_schema_history WHERE version = '1'"))
            .isEqualTo(true);

        FailureAnalysis analysis = new CallbackLockTimeoutFailureAnalyzer().analyze(failure);
        assertThat(analysis.getDescription())
            .contains("Flyway's afterMigrate callback hit the lock timeout of 1s and was not retried")
            .contains("application dashboard");
        assertThat(analysis.getAction()).contains("set pgmigrate.blocking-action to 'terminate'")
            .contains("Flyway runs afterMigrate callbacks on every migrate");
        assertThat(output).contains("APPLICATION FAILED TO START")
            .contains("Flyway's afterMigrate callback hit the lock timeout");
    }

    /** The schema's orders and their totals, and a dashboard that reads the totals in an open transaction. */
    private static TestSession dashboard(TestDatabase database, String schema) throws SQLException {
        database.execute("CREATE SCHEMA " + schema,
                "CREATE TABLE " + schema + ".orders (id int PRIMARY KEY, total int)",
                "INSERT INTO " + schema + ".orders SELECT g, g * 10 FROM generate_series(1, 100) g",
                "CREATE MATERIALIZED VIEW " + schema + ".order_totals AS SELECT sum(total) AS total FROM "
                        + schema + ".orders");
        return database.session("dashboard").begin().execute("SELECT total FROM " + schema + ".order_totals");
    }

    private static ConfigurableApplicationContext start(TestDatabase database, String schema, String... properties) {
        return TestApplications.start(database,
                Map.of("spring.flyway.locations", "classpath:db/callback", "spring.flyway.schemas", schema,
                        "spring.flyway.baseline-on-migrate", "true", "spring.flyway.baseline-version", "0"),
                List.of(properties));
    }
}
