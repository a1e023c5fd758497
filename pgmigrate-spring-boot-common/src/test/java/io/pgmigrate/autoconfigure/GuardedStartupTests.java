package io.pgmigrate.autoconfigure;

import io.pgmigrate.autoconfigure.metrics.PgMigrateMetrics;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.regex.Pattern;

import io.micrometer.core.instrument.MeterRegistry;
import io.pgmigrate.core.Blocker;
import io.pgmigrate.core.BlockingAction;
import io.pgmigrate.flyway.LockTimeoutExhaustedException;
import io.pgmigrate.testsupport.PostgresTest;
import io.pgmigrate.testsupport.TestDatabase;
import io.pgmigrate.testsupport.TestSession;
import org.flywaydb.core.Flyway;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

import org.springframework.boot.diagnostics.FailureAnalysis;
import org.springframework.boot.test.system.CapturedOutput;
import org.springframework.boot.test.system.OutputCaptureExtension;
import org.springframework.context.ConfigurableApplicationContext;
import org.springframework.context.annotation.Bean;
import org.springframework.context.annotation.Configuration;
import org.springframework.mock.env.MockEnvironment;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowable;
import static org.awaitility.Awaitility.await;

/**
 * Whole applications (web server, actuator, Micrometer, Flyway, pgmigrate's starter dependencies) starting
 * against a real PostgreSQL while a session sits idle in a transaction on the table the migration alters. Each
 * test migrates a schema of its own: V1 (the table) is applied beforehand by plain Flyway, then the blocker takes
 * its lock, then the application starts and its Flyway has to apply V2 ({@code ALTER TABLE}), which waits for
 * the blocker.
 */
@PostgresTest
@ExtendWith(OutputCaptureExtension.class)
class GuardedStartupTests {

    private static final Duration DEADLINE = Duration.ofSeconds(60);

    private static final String MIGRATION = "2 (add email)";

    @Test
    void terminatesTheBlockerAndStarts(TestDatabase database, CapturedOutput output) throws Exception {
        TestSession blocker = TestApplications.accountsBlocker(database, "terminate_default");
        try (ConfigurableApplicationContext application = TestApplications.startAccounts(database, "terminate_default", List.of())) {
            await().atMost(DEADLINE).until(() -> !blocker.isAlive());
            assertThat(TestApplications.accountsHaveEmail(database, "terminate_default")).isTrue();
            assertThat(output).containsPattern("WARN .* pgmigrate: Terminated a session blocking migration "
                    + Pattern.quote(MIGRATION) + ": outcome=terminated pid=" + blocker.pid() + " ");
            MeterRegistry registry = application.getBean(MeterRegistry.class);
            assertThat(registry.get(PgMigrateMetrics.BLOCKERS).tag("action", "terminated").counter().count())
                .isEqualTo(1.0);
            assertThat(registry.get(PgMigrateMetrics.BLOCKERS).tag("action", "shown").counter().count()).isZero();
            assertThat(registry.get(PgMigrateMetrics.MIGRATION_BLOCKED).timer().count()).isGreaterThanOrEqualTo(1);

            Map<String, Object> endpoint = TestApplications.getJson(application, "/actuator/pgmigrate");
            List<Map<String, Object>> runs = TestApplications.list(endpoint.get("runs"));
            assertThat(runs).hasSize(1);
            Map<String, Object> run = runs.get(0);
            assertThat(run).containsEntry("outcome", "success");
            assertThat(((Number) run.get("migrationsApplied")).intValue()).isEqualTo(1);
            assertThat(TestApplications.list(run.get("backendPids"))).isNotEmpty();
            List<Map<String, Object>> blockers = TestApplications.list(run.get("blockers"));
            assertThat(blockers).anySatisfy((seen) -> {
                assertThat(((Number) seen.get("pid")).intValue()).isEqualTo(blocker.pid());
                assertThat(seen).containsEntry("action", "terminated")
                    .containsEntry("applicationName", "reporting")
                    .containsEntry("state", "idle in transaction");
                assertThat(seen.get("blocked").toString()).contains(MIGRATION);
                assertThat(seen.get("query").toString()).contains("FROM terminate_default.accounts");
                // durations as the log writes them, milliseconds beside them, and no empty fields
                assertThat(seen.get("age").toString()).matches("([0-9]+h)?([0-9]+m)?([0-9]+(\\.[0-9]+)?s|[0-9]+ms)");
                assertThat(((Number) seen.get("ageMillis")).longValue()).isNotNegative();
                assertThat(seen).doesNotContainKey("detail");
            });

            Map<String, Object> metric = TestApplications.getJson(application, "/actuator/metrics/" + PgMigrateMetrics.BLOCKERS
                    + "?tag=action:terminated");
            List<Map<String, Object>> measurements = TestApplications.list(metric.get("measurements"));
            assertThat(measurements).anySatisfy(
                    (measurement) -> assertThat(((Number) measurement.get("value")).doubleValue()).isEqualTo(1.0));
        }
    }

    @Test
    void failsWithAnAnalysisNamingTheBlockerWhenItIsOnlyShown(TestDatabase database, CapturedOutput output)
            throws Exception {
        TestSession blocker = TestApplications.accountsBlocker(database, "show_fails");
        Throwable failure = catchThrowable(() -> TestApplications.startAccounts(database, "show_fails",
                List.of("pgmigrate.blocking-action=show", "pgmigrate.lock-timeout=1s", "pgmigrate.lock-retries=1",
                        "pgmigrate.lock-retry-delay=100ms")).close());

        assertThat(failure).isNotNull();
        assertThat(blocker.isAlive()).isTrue();
        assertThat(TestApplications.accountsHaveEmail(database, "show_fails")).isFalse();
        LockTimeoutExhaustedException exhausted = TestApplications.cause(failure, LockTimeoutExhaustedException.class);
        assertThat(exhausted.migration()).isEqualTo(MIGRATION);
        assertThat(exhausted.attempts()).isEqualTo(2);

        FailureAnalysis analysis = new LockTimeoutFailureAnalyzer(new MockEnvironment()
            .withProperty("pgmigrate.blocking-action", "show")
            .withProperty("pgmigrate.lock-retries", "1")).analyze(failure);
        assertThat(analysis.getDescription()).contains("Migration " + MIGRATION)
            .contains("lock timeout of 1s")
            .contains("each of its 2 attempts")
            .contains("pid " + blocker.pid())
            .contains("application reporting")
            .contains("state idle in transaction");
        assertThat(analysis.getAction()).contains("pgmigrate.blocking-action is 'show'")
            .contains("pg_terminate_backend(" + blocker.pid() + ")");

        // registered in spring.factories: Spring Boot itself printed the analysis instead of a stack trace
        assertThat(output).contains("APPLICATION FAILED TO START")
            .contains("Migration " + MIGRATION + " could not get its locks")
            .contains("pid " + blocker.pid());
    }

    @Test
    void guardsTheUsersMigrationStrategy(TestDatabase database) throws Exception {
        TestSession blocker = TestApplications.accountsBlocker(database, "user_strategy");
        try (ConfigurableApplicationContext application = TestApplications.startAccounts(database, "user_strategy", List.of(),
                UserStrategy.class)) {
            await().atMost(DEADLINE).until(() -> !blocker.isAlive());
            assertThat(TestApplications.accountsHaveEmail(database, "user_strategy")).isTrue();
            assertThat(application.getBean(UserStrategy.class).migrated).singleElement()
                .isSameAs(application.getBean(Flyway.class));
        }
    }

    @Test
    void aBlockingActionBeanReplacesTheProperty(TestDatabase database) throws Exception {
        TestSession blocker = TestApplications.accountsBlocker(database, "user_action");
        try (ConfigurableApplicationContext application = TestApplications.startAccounts(database, "user_action",
                List.of("pgmigrate.blocking-action=none"), UserAction.class)) {
            await().atMost(DEADLINE).until(() -> !blocker.isAlive());
            assertThat(TestApplications.accountsHaveEmail(database, "user_action")).isTrue();
            assertThat(application.getBean(UserAction.class).seen).contains(blocker.pid());
        }
    }

    @Test
    void guardsFlywaysOwnDataSource(TestDatabase database) throws Exception {
        TestSession blocker = TestApplications.accountsBlocker(database, "flyway_url");
        // the application's own DataSource is H2: only Flyway talks to PostgreSQL
        try (ConfigurableApplicationContext application = TestApplications.startAccounts(database, "flyway_url",
                List.of("spring.datasource.url=jdbc:h2:mem:flyway_url;DB_CLOSE_DELAY=-1", "spring.datasource.username=sa",
                        "spring.datasource.password=", "spring.flyway.url=" + database.jdbcUrl(),
                        "spring.flyway.user=" + database.user(), "spring.flyway.password=" + database.password()))) {
            await().atMost(DEADLINE).until(() -> !blocker.isAlive());
            assertThat(TestApplications.accountsHaveEmail(database, "flyway_url")).isTrue();
            MeterRegistry registry = application.getBean(MeterRegistry.class);
            assertThat(registry.get(PgMigrateMetrics.BLOCKERS).tag("action", "terminated").counter().count())
                .isEqualTo(1.0);
        }
    }

    @Configuration(proxyBeanMethods = false)
    static class UserStrategy {

        final List<Flyway> migrated = new CopyOnWriteArrayList<>();

        @Bean
        BootGeneration.MigrationStrategy userMigrationStrategy() {
            return (flyway) -> {
                this.migrated.add(flyway);
                flyway.migrate();
            };
        }
    }

    @Configuration(proxyBeanMethods = false)
    static class UserAction {

        final List<Integer> seen = new CopyOnWriteArrayList<>();

        @Bean
        BlockingAction userBlockingAction() {
            return (blockers, control) -> {
                blockers.stream().map(Blocker::pid).forEach(this.seen::add);
                control.terminate(blockers);
            };
        }
    }
}
