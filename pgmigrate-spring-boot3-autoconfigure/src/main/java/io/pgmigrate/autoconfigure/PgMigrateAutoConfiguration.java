package io.pgmigrate.autoconfigure;

import io.pgmigrate.autoconfigure.metrics.PgMigrateMetricsAutoConfiguration;
import io.pgmigrate.autoconfigure.endpoint.PgMigrateEndpointAutoConfiguration;
import io.pgmigrate.core.BlockingAction;
import io.pgmigrate.core.StandardBlockingAction;
import io.pgmigrate.flyway.FlywayGuard;
import io.pgmigrate.core.GuardListener;
import io.pgmigrate.core.GuardSettings;
import org.flywaydb.core.Flyway;

import org.springframework.beans.factory.ObjectProvider;
import org.springframework.boot.autoconfigure.AutoConfiguration;
import org.springframework.boot.autoconfigure.condition.ConditionalOnBean;
import org.springframework.boot.autoconfigure.condition.ConditionalOnClass;
import org.springframework.boot.autoconfigure.condition.ConditionalOnMissingBean;
import org.springframework.boot.context.properties.EnableConfigurationProperties;
import org.springframework.boot.autoconfigure.flyway.FlywayAutoConfiguration;
import org.springframework.boot.autoconfigure.flyway.FlywayMigrationStrategy;
import org.springframework.context.annotation.Bean;
import org.springframework.context.annotation.Conditional;

/**
 * Auto-configuration that guards Spring Boot 3.5's start-up Flyway migration: the
 * migration runs through a {@link FlywayGuard}, which deals with the sessions that block it and applies the
 * lock timeout and retries of {@link PgMigrateProperties}.
 * <p>
 * Runs after {@link FlywayAutoConfiguration} and only when it defined a {@link Flyway}. Every bean backs off when
 * the application defines its own. A {@link BlockingAction} bean replaces {@code pgmigrate.blocking-action}. The
 * guard hooks into Boot at one place: {@code migrate()} of Boot's {@link Flyway} bean runs under it (see
 * {@link GuardingFlywayPostProcessor}), so Boot's own initializer and a user's {@link FlywayMigrationStrategy},
 * which stays the user's bean, are guarded alike; the guard takes the DataSource from Flyway's configuration, so a
 * separate {@code spring.flyway.url} is guarded as well.
 * <p>
 * The watcher does not take its connection from that DataSource, usually the pool the application shares: it gets
 * an unpooled DataSource of its own, derived from Flyway's (same URL, user and password), so that it never waits
 * for a connection that Flyway and the application hold. A {@link FlywayGuard} bean of the application's own
 * decides itself, with {@link FlywayGuard#withWatcherDataSource(javax.sql.DataSource)}.
 *
 * @see PgMigrateMetricsAutoConfiguration
 * @see PgMigrateEndpointAutoConfiguration
 */
@AutoConfiguration(after = FlywayAutoConfiguration.class)
@ConditionalOnClass({ Flyway.class, FlywayMigrationStrategy.class })
@ConditionalOnBean(Flyway.class)
@Conditional(OnGuardEnabledCondition.class)
@EnableConfigurationProperties(PgMigrateProperties.class)
public final class PgMigrateAutoConfiguration {

    @Bean
    @ConditionalOnMissingBean
    GuardSettings pgMigrateGuardSettings(PgMigrateProperties properties) {
        return ValidatedSettings.from(properties);
    }

    @Bean
    @ConditionalOnMissingBean
    FlywayGuard pgMigrateFlywayGuard(GuardSettings settings, PgMigrateProperties properties,
            ObjectProvider<BlockingAction> action, ObjectProvider<GuardListener> listeners) {
        // checked even when a BlockingAction bean replaces it: a wrong value is a mistake either way
        StandardBlockingAction configured = ValidatedSettings.blockingAction(properties);
        return new FlywayGuard(settings, action.getIfAvailable(() -> configured),
                GuardListener.of(listeners.orderedStream().toList()))
            .withWatcherDataSource(WatcherDataSources::derivedFrom);
    }

    @Bean
    static GuardingFlywayPostProcessor pgMigrateGuardingFlywayPostProcessor(ObjectProvider<FlywayGuard> guard) {
        return new GuardingFlywayPostProcessor(FlywayAutoConfiguration.class.getName(), guard);
    }
}
