package io.pgmigrate.autoconfigure;

import io.pgmigrate.autoconfigure.metrics.PgMigrateMetrics;
import io.pgmigrate.autoconfigure.metrics.PgMigrateMetricsAutoConfiguration;
import io.pgmigrate.autoconfigure.endpoint.PgMigrateEndpoint;
import io.pgmigrate.autoconfigure.endpoint.PgMigrateEndpointAutoConfiguration;
import io.pgmigrate.autoconfigure.endpoint.MigrationHistory;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;

import io.micrometer.core.instrument.MeterRegistry;
import io.pgmigrate.core.BlockingAction;
import io.pgmigrate.core.StandardBlockingAction;
import io.pgmigrate.flyway.FlywayGuard;
import io.pgmigrate.core.GuardSettings;
import org.flywaydb.core.Flyway;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

import org.springframework.boot.actuate.endpoint.annotation.Endpoint;
import org.springframework.boot.autoconfigure.AutoConfigurations;
import org.springframework.boot.test.context.FilteredClassLoader;
import org.springframework.boot.test.context.runner.ApplicationContextRunner;
import org.springframework.boot.test.system.CapturedOutput;
import org.springframework.boot.test.system.OutputCaptureExtension;
import org.springframework.context.annotation.Bean;
import org.springframework.context.annotation.Configuration;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * Which beans the auto-configuration defines, per classpath and property, on an embedded H2 database (no
 * PostgreSQL needed: the guard steps aside there, which is one of the behaviours tested).
 */
@ExtendWith(OutputCaptureExtension.class)
class PgMigrateAutoConfigurationTests {

    private final ApplicationContextRunner runner = new ApplicationContextRunner()
        .withConfiguration(AutoConfigurations.of(BootGeneration.FLYWAY))
        .withConfiguration(AutoConfigurations.of(BootGeneration.METRICS_AND_ENDPOINTS))
        .withConfiguration(AutoConfigurations.of(PgMigrateAutoConfiguration.class,
                PgMigrateMetricsAutoConfiguration.class, PgMigrateEndpointAutoConfiguration.class))
        .withPropertyValues("spring.datasource.generate-unique-name=true", "spring.flyway.locations=classpath:db/none",
                "management.endpoints.web.exposure.include=pgmigrate");

    @Test
    void guardsTheStartUpMigrationByDefault() {
        this.runner.run((context) -> {
            assertThat(context).hasNotFailed();
            assertThat(context).hasSingleBean(PgMigrateProperties.class);
            assertThat(context).hasSingleBean(GuardSettings.class);
            assertThat(context).hasSingleBean(FlywayGuard.class);
            // the guard hooks into Boot's Flyway bean; it defines no strategy of its own
            assertThat(context).doesNotHaveBean(BootGeneration.MIGRATION_STRATEGY);
            assertThat(context.getBean(Flyway.class)).isInstanceOf(GuardedBootFlyway.class);
            assertThat(context).hasSingleBean(PgMigrateMetrics.class);
            assertThat(context).hasSingleBean(MigrationHistory.class);
            assertThat(context).hasSingleBean(PgMigrateEndpoint.class);
        });
    }

    @Test
    void stepsAsideWithOneInfoLineOnADatabaseThatIsNotPostgres(CapturedOutput output) {
        this.runner.run((context) -> {
            assertThat(context).hasNotFailed();
            assertThat(output).containsOnlyOnce("pgmigrate: not guarding the migration, the database is not "
                    + "PostgreSQL: database=H2");
            // Flyway itself ran: the migration is not skipped, only unguarded
            assertThat(context.getBean(Flyway.class).info().getInfoResult().schemaVersion).isNull();
            assertThat(output).contains("Schema history table");
        });
    }

    @Test
    void backsOffWithoutFlywayOnTheClasspath() {
        this.runner.withClassLoader(new FilteredClassLoader(Flyway.class)).run((context) -> {
            assertThat(context).hasNotFailed();
            assertThat(context).doesNotHaveBean(FlywayGuard.class);
            assertThat(context).doesNotHaveBean(PgMigrateProperties.class);
            assertThat(context).doesNotHaveBean(BootGeneration.MIGRATION_STRATEGY);
            assertThat(context).doesNotHaveBean(PgMigrateMetrics.class);
            assertThat(context).doesNotHaveBean(PgMigrateEndpoint.class);
        });
    }

    @Test
    void backsOffWhenBootDefinesNoFlyway() {
        this.runner.withPropertyValues("spring.flyway.enabled=false").run((context) -> {
            assertThat(context).hasNotFailed();
            assertThat(context).doesNotHaveBean(Flyway.class);
            assertThat(context).doesNotHaveBean(FlywayGuard.class);
            assertThat(context).doesNotHaveBean(BootGeneration.MIGRATION_STRATEGY);
        });
    }

    @Test
    void backsOffWhenDisabled() {
        this.runner.withPropertyValues("pgmigrate.enabled=false").run((context) -> {
            assertThat(context).hasNotFailed();
            assertThat(context).hasSingleBean(Flyway.class);
            assertThat(context).doesNotHaveBean(FlywayGuard.class);
            assertThat(context).doesNotHaveBean(GuardSettings.class);
            assertThat(context).doesNotHaveBean(BootGeneration.MIGRATION_STRATEGY);
            assertThat(context).doesNotHaveBean(PgMigrateMetrics.class);
            assertThat(context).doesNotHaveBean(PgMigrateEndpoint.class);
        });
    }

    @Test
    void definesNoEndpointWithoutTheActuator() {
        this.runner.withClassLoader(new FilteredClassLoader(Endpoint.class)).run((context) -> {
            assertThat(context).hasNotFailed();
            assertThat(context).hasSingleBean(FlywayGuard.class);
            assertThat(context).doesNotHaveBean(PgMigrateEndpoint.class);
            assertThat(context).doesNotHaveBean(MigrationHistory.class);
        });
    }

    @Test
    void definesNoEndpointWhenItIsNotExposed() {
        this.runner.withPropertyValues("management.endpoints.web.exposure.include=health").run((context) -> {
            assertThat(context).hasSingleBean(FlywayGuard.class);
            assertThat(context).doesNotHaveBean(PgMigrateEndpoint.class);
        });
    }

    @Test
    void definesNoMetricsWithoutMicrometer() {
        new ApplicationContextRunner()
            .withConfiguration(AutoConfigurations.of(BootGeneration.FLYWAY))
            .withConfiguration(AutoConfigurations.of(PgMigrateAutoConfiguration.class,
                    PgMigrateMetricsAutoConfiguration.class))
            .withPropertyValues("spring.datasource.generate-unique-name=true",
                    "spring.flyway.locations=classpath:db/none")
            .withClassLoader(new FilteredClassLoader(MeterRegistry.class))
            .run((context) -> {
            assertThat(context).hasNotFailed();
            assertThat(context).hasSingleBean(FlywayGuard.class);
            assertThat(context).doesNotHaveBean(PgMigrateMetrics.class);
        });
    }

    @Test
    void definesNoMetricsWithoutAMeterRegistry() {
        new ApplicationContextRunner()
            .withConfiguration(AutoConfigurations.of(BootGeneration.FLYWAY))
            .withConfiguration(AutoConfigurations.of(PgMigrateAutoConfiguration.class,
                    PgMigrateMetricsAutoConfiguration.class))
            .withPropertyValues("spring.datasource.generate-unique-name=true",
                    "spring.flyway.locations=classpath:db/none")
            .run((context) -> {
                assertThat(context).hasSingleBean(FlywayGuard.class);
                assertThat(context).doesNotHaveBean(PgMigrateMetrics.class);
            });
    }

    @Test
    void keepsTheUsersBlockingActionBean() {
        this.runner.withUserConfiguration(UserAction.class).run((context) -> {
            assertThat(context).hasNotFailed();
            assertThat(context).getBean(BlockingAction.class).isSameAs(UserAction.ACTION);
            assertThat(context).hasSingleBean(FlywayGuard.class);
        });
    }

    @Test
    void keepsTheUsersMigrationStrategy() {
        this.runner.withUserConfiguration(UserStrategy.class).run((context) -> {
            assertThat(context).hasNotFailed();
            assertThat(context).getBean(BootGeneration.MIGRATION_STRATEGY).isInstanceOf(RecordingStrategy.class);
            // the user's strategy gets the Flyway bean, whose migrate() is guarded (on H2: it steps aside)
            assertThat(context.getBean(RecordingStrategy.class).migrated).containsExactly(context.getBean(Flyway.class));
        });
    }

    @Test
    void backsOffFromTheUsersGuard() {
        this.runner.withUserConfiguration(UserGuard.class).run((context) -> {
            assertThat(context).hasSingleBean(FlywayGuard.class);
            assertThat(context).getBean(FlywayGuard.class).isSameAs(context.getBean(UserGuard.class).guard);
        });
    }

    @Test
    void usesTheUsersGuardSettingsWithoutLookingAtProperties() {
        this.runner.withUserConfiguration(UserSettings.class)
            .withPropertyValues("pgmigrate.lock-retries=-1")
            .run((context) -> {
                assertThat(context).hasNotFailed();
                assertThat(context).getBean(GuardSettings.class).isEqualTo(UserSettings.SETTINGS);
            });
    }

    @Configuration(proxyBeanMethods = false)
    static class UserAction {

        static final BlockingAction ACTION = StandardBlockingAction.SHOW::act;

        @Bean
        BlockingAction userAction() {
            return ACTION;
        }
    }

    @Configuration(proxyBeanMethods = false)
    static class UserStrategy {

        @Bean
        RecordingStrategy userStrategy() {
            return new RecordingStrategy();
        }
    }

    static class RecordingStrategy implements BootGeneration.MigrationStrategy {

        final List<Flyway> migrated = new CopyOnWriteArrayList<>();

        @Override
        public void migrate(Flyway flyway) {
            this.migrated.add(flyway);
            flyway.migrate();
        }
    }

    @Configuration(proxyBeanMethods = false)
    static class UserGuard {

        final FlywayGuard guard = new FlywayGuard(GuardSettings.defaults());

        @Bean
        FlywayGuard userGuard() {
            return this.guard;
        }
    }

    @Configuration(proxyBeanMethods = false)
    static class UserSettings {

        static final GuardSettings SETTINGS = GuardSettings.defaults().withLockRetries(7);

        @Bean
        GuardSettings userSettings() {
            return SETTINGS;
        }
    }
}
