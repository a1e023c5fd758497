package io.pgmigrate.autoconfigure;

import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CopyOnWriteArrayList;

import io.micrometer.core.instrument.MeterRegistry;
import io.pgmigrate.autoconfigure.metrics.PgMigrateMetrics;
import io.pgmigrate.liquibase.ChangeSetLockTimeoutException;
import io.pgmigrate.liquibase.LiquibaseGuard;
import io.pgmigrate.testsupport.PostgresTest;
import io.pgmigrate.testsupport.TestDatabase;
import io.pgmigrate.testsupport.TestSession;
import liquibase.Liquibase;
import liquibase.changelog.ChangeSet;
import liquibase.changelog.DatabaseChangeLog;
import liquibase.changelog.visitor.AbstractChangeExecListener;
import liquibase.database.Database;
import liquibase.integration.spring.Customizer;
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
 * Whole applications on Liquibase starting against a real PostgreSQL while a session sits idle in a transaction on
 * the table that changeset {@code 2-add-note} alters. Each test updates a schema of its own.
 */
@PostgresTest
@ExtendWith(OutputCaptureExtension.class)
class LiquibaseStartupTests {

    private static final Duration DEADLINE = Duration.ofSeconds(60);

    private static final String CHANGESET = "changeset 2-add-note::orders-team (db/changelog/orders.yaml)";

    @Test
    void terminatesTheBlockerOfAChangeSetAndTheApplicationsCustomizerAndListenerStillRun(TestDatabase database,
            CapturedOutput output) throws Exception {
        TestSession blocker = TestApplications.ordersBlocker(database, "lb_terminate");
        try (ConfigurableApplicationContext application = TestApplications.startOrdersChangelog(database,
                "lb_terminate", List.of(), UserCustomizer.class)) {
            assertThat(blocker.isAlive()).isFalse();
            assertThat(TestApplications.ordersHaveNote(database, "lb_terminate")).isTrue();
            assertThat(output).contains("pgmigrate: Terminated a session blocking " + CHANGESET
                    + ": outcome=terminated pid="
                    + blocker.pid());
            MeterRegistry registry = application.getBean(MeterRegistry.class);
            assertThat(registry.get(PgMigrateMetrics.BLOCKERS).tag("action", "terminated").counter().count())
                .isEqualTo(1.0);

            Map<String, Object> endpoint = TestApplications.getJson(application, "/actuator/pgmigrate");
            List<Map<String, Object>> runs = TestApplications.list(endpoint.get("runs"));
            assertThat(runs).singleElement().satisfies((run) -> {
                assertThat(run).containsEntry("outcome", "success");
                assertThat(((Number) run.get("migrationsApplied")).intValue()).isEqualTo(1);
                List<Map<String, Object>> blockers = TestApplications.list(run.get("blockers"));
                assertThat(blockers).singleElement().satisfies((seen) -> {
                    assertThat(((Number) seen.get("pid")).intValue()).isEqualTo(blocker.pid());
                    assertThat(seen).containsEntry("action", "terminated");
                    assertThat(seen.get("blocked")).isEqualTo(CHANGESET);
                });
            });
            // the application's customizer ran, and its listener saw the changeset
            UserCustomizer user = application.getBean(UserCustomizer.class);
            assertThat(user.customized).hasSize(1);
            assertThat(user.ran).containsExactly("2-add-note");
            // Boot's bean has its own DataSource and customizer back once the update is over
            assertThat(application.getBean(liquibase.integration.spring.SpringLiquibase.class).getCustomizer())
                .isSameAs(application.getBean("userLiquibaseCustomizer"));
        }
    }

    @Test
    void failsWithAnAnalysisNamingTheChangeSetAndTheBlockerWhenItIsOnlyShown(TestDatabase database,
            CapturedOutput output) throws Exception {
        TestSession blocker = TestApplications.ordersBlocker(database, "lb_show");
        Throwable failure = catchThrowable(() -> TestApplications.startOrdersChangelog(database, "lb_show",
                List.of("pgmigrate.blocking-action=show", "pgmigrate.lock-timeout=1s", "pgmigrate.lock-retries=1",
                        "pgmigrate.lock-retry-delay=100ms")).close());

        assertThat(failure).isNotNull();
        assertThat(blocker.isAlive()).isTrue();
        assertThat(TestApplications.ordersHaveNote(database, "lb_show")).isFalse();
        ChangeSetLockTimeoutException exhausted = TestApplications.cause(failure, ChangeSetLockTimeoutException.class);
        assertThat(exhausted.changeSet()).isEqualTo("2-add-note::orders-team (db/changelog/orders.yaml)");
        assertThat(exhausted.attempts()).isEqualTo(2);
        FailureAnalysis analysis = new ChangeSetLockTimeoutFailureAnalyzer(new MockEnvironment()
            .withProperty("pgmigrate.lock-retries", "1")).analyze(failure);
        assertThat(analysis.getDescription()).contains("Changeset 2-add-note::orders-team")
            .contains("each of its 2 attempts")
            .contains("pid " + blocker.pid());
        assertThat(analysis.getAction()).contains("'show'").contains("pg_terminate_backend(" + blocker.pid() + ")");
        // registered in spring.factories: Spring Boot itself printed the analysis
        assertThat(output).contains("APPLICATION FAILED TO START").contains("Changeset 2-add-note::orders-team");
    }

    @Test
    void guardsBothToolsInAnApplicationThatHasBoth(TestDatabase database) throws Exception {
        TestSession flywayBlocker = TestApplications.accountsBlocker(database, "both_flyway");
        TestSession liquibaseBlocker = TestApplications.ordersBlocker(database, "both_liquibase");
        try (ConfigurableApplicationContext application = TestApplications.start(database,
                Map.of("spring.flyway.locations", "classpath:db/app", "spring.flyway.schemas", "both_flyway",
                        "spring.liquibase.enabled", "true", "spring.liquibase.change-log",
                        "classpath:db/changelog/orders.yaml", "spring.liquibase.default-schema", "both_liquibase",
                        "spring.liquibase.parameters.schema", "both_liquibase"),
                List.of())) {
            await().atMost(DEADLINE).until(() -> !flywayBlocker.isAlive() && !liquibaseBlocker.isAlive());
            assertThat(TestApplications.accountsHaveEmail(database, "both_flyway")).isTrue();
            assertThat(TestApplications.ordersHaveNote(database, "both_liquibase")).isTrue();
            assertThat(application.getBeansOfType(LiquibaseGuard.class)).hasSize(1);
            MeterRegistry registry = application.getBean(MeterRegistry.class);
            assertThat(registry.get(PgMigrateMetrics.BLOCKERS).tag("action", "terminated").counter().count())
                .isEqualTo(2.0);
            List<Map<String, Object>> runs = TestApplications
                .list(TestApplications.getJson(application, "/actuator/pgmigrate").get("runs"));
            assertThat(runs).hasSize(2);
        }
    }

    @Configuration(proxyBeanMethods = false)
    static class UserCustomizer extends AbstractChangeExecListener {

        final List<Liquibase> customized = new CopyOnWriteArrayList<>();

        final List<String> ran = new CopyOnWriteArrayList<>();

        @Bean
        Customizer<Liquibase> userLiquibaseCustomizer() {
            return (liquibase) -> {
                this.customized.add(liquibase);
                liquibase.setChangeExecListener(this);
            };
        }

        @Override
        public void ran(ChangeSet changeSet, DatabaseChangeLog databaseChangeLog, Database database,
                ChangeSet.ExecType execType) {
            this.ran.add(changeSet.getId());
        }
    }
}
