package io.pgmigrate.autoconfigure;

import io.pgmigrate.autoconfigure.endpoint.MigrationHistory;
import io.pgmigrate.autoconfigure.endpoint.PgMigrateEndpointAutoConfiguration;
import io.pgmigrate.autoconfigure.metrics.PgMigrateMetrics;
import io.pgmigrate.autoconfigure.metrics.PgMigrateMetricsAutoConfiguration;
import io.pgmigrate.core.GuardSettings;
import io.pgmigrate.liquibase.LiquibaseGuard;
import liquibase.integration.spring.SpringLiquibase;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

import org.springframework.aop.support.AopUtils;
import org.springframework.boot.actuate.autoconfigure.endpoint.EndpointAutoConfiguration;
import org.springframework.boot.autoconfigure.AutoConfigurations;
import org.springframework.boot.jdbc.autoconfigure.DataSourceAutoConfiguration;
import org.springframework.boot.liquibase.autoconfigure.LiquibaseAutoConfiguration;
import org.springframework.boot.micrometer.metrics.autoconfigure.CompositeMeterRegistryAutoConfiguration;
import org.springframework.boot.micrometer.metrics.autoconfigure.MetricsAutoConfiguration;
import org.springframework.boot.micrometer.metrics.autoconfigure.export.simple.SimpleMetricsExportAutoConfiguration;
import org.springframework.boot.test.context.FilteredClassLoader;
import org.springframework.boot.test.context.runner.ApplicationContextRunner;
import org.springframework.boot.test.system.CapturedOutput;
import org.springframework.boot.test.system.OutputCaptureExtension;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * Which beans an application with Liquibase and without Flyway gets: no Flyway class on its classpath (hidden by
 * the class loader), on an embedded H2 database (the guard steps aside there).
 */
@ExtendWith(OutputCaptureExtension.class)
class LiquibaseOnlyAutoConfigurationTests {

    /** Every auto-configuration of pgmigrate, Flyway's own included: it must step back without a Flyway class. */
    private final ApplicationContextRunner runner = new ApplicationContextRunner()
        .withClassLoader(new FilteredClassLoader("org.flywaydb"))
        .withConfiguration(AutoConfigurations.of(DataSourceAutoConfiguration.class,
                LiquibaseAutoConfiguration.class, PgMigrateAutoConfiguration.class,
                PgMigrateLiquibaseAutoConfiguration.class, PgMigrateMetricsAutoConfiguration.class,
                PgMigrateEndpointAutoConfiguration.class, MetricsAutoConfiguration.class,
                SimpleMetricsExportAutoConfiguration.class, CompositeMeterRegistryAutoConfiguration.class,
                EndpointAutoConfiguration.class))
        .withPropertyValues("spring.datasource.generate-unique-name=true",
                "spring.liquibase.change-log=classpath:db/changelog/empty.yaml",
                "management.endpoints.web.exposure.include=pgmigrate");

    @Test
    void guardsLiquibaseWithoutAnyFlywayClass(CapturedOutput output) {
        this.runner.run((context) -> {
            assertThat(context).hasNotFailed();
            assertThat(context).hasSingleBean(GuardSettings.class);
            assertThat(context).hasSingleBean(LiquibaseGuard.class);
            assertThat(context).doesNotHaveBean("pgMigrateFlywayGuard");
            assertThat(AopUtils.isCglibProxy(context.getBean(SpringLiquibase.class))).isTrue();
            assertThat(context).hasSingleBean(PgMigrateMetrics.class);
            assertThat(context).hasSingleBean(MigrationHistory.class);
            // the update ran, guarded until the watcher's connection said the database is H2
            assertThat(output).containsOnlyOnce("pgmigrate: not guarding the update, the database is not PostgreSQL");
        });
    }

    @Test
    void aLiquibaseGuardBeanOfTheApplicationsReplacesTheDefault() {
        LiquibaseGuard own = new LiquibaseGuard(GuardSettings.defaults());
        this.runner.withBean(LiquibaseGuard.class, () -> own).run((context) -> {
            assertThat(context).hasNotFailed();
            assertThat(context).getBean(LiquibaseGuard.class).isSameAs(own);
        });
    }

    @Test
    void guardsNothingWhenDisabled() {
        this.runner.withPropertyValues("pgmigrate.enabled=false").run((context) -> {
            assertThat(context).hasNotFailed();
            assertThat(context).doesNotHaveBean(LiquibaseGuard.class);
            assertThat(AopUtils.isCglibProxy(context.getBean(SpringLiquibase.class))).isFalse();
        });
    }
}
