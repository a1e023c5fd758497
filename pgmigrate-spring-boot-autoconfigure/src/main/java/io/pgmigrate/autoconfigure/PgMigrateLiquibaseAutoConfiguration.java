package io.pgmigrate.autoconfigure;

import io.pgmigrate.core.BlockingAction;
import io.pgmigrate.core.GuardListener;
import io.pgmigrate.core.GuardSettings;
import io.pgmigrate.core.StandardBlockingAction;
import io.pgmigrate.liquibase.LiquibaseGuard;
import liquibase.integration.spring.SpringLiquibase;

import org.springframework.beans.factory.ObjectProvider;
import org.springframework.boot.autoconfigure.AutoConfiguration;
import org.springframework.boot.autoconfigure.condition.ConditionalOnBean;
import org.springframework.boot.autoconfigure.condition.ConditionalOnClass;
import org.springframework.boot.autoconfigure.condition.ConditionalOnMissingBean;
import org.springframework.boot.context.properties.EnableConfigurationProperties;
import org.springframework.boot.liquibase.autoconfigure.LiquibaseAutoConfiguration;
import org.springframework.context.annotation.Bean;
import org.springframework.context.annotation.Conditional;

/**
 * Auto-configuration that guards Spring Boot's start-up Liquibase update: the update of the {@link SpringLiquibase}
 * that {@link LiquibaseAutoConfiguration} defines runs through a {@link LiquibaseGuard} (see
 * {@link GuardingLiquibasePostProcessor}), with the lock timeout and retries of {@link PgMigrateProperties}.
 * <p>
 * Needs no Flyway class: an application with Liquibase only gets this, one with both tools gets this and
 * {@link PgMigrateAutoConfiguration}, which share the {@link GuardSettings} bean, the listeners, the meters and the
 * endpoint. Every bean backs off when the application defines its own; a {@link BlockingAction} bean replaces
 * {@code pgmigrate.blocking-action}. The watcher gets an unpooled DataSource of its own, derived from Liquibase's.
 */
@AutoConfiguration(after = { LiquibaseAutoConfiguration.class, PgMigrateAutoConfiguration.class })
@ConditionalOnClass({ SpringLiquibase.class, LiquibaseAutoConfiguration.class })
@ConditionalOnBean(SpringLiquibase.class)
@Conditional(OnGuardEnabledCondition.class)
@EnableConfigurationProperties(PgMigrateProperties.class)
public final class PgMigrateLiquibaseAutoConfiguration {

    @Bean
    @ConditionalOnMissingBean
    GuardSettings pgMigrateGuardSettings(PgMigrateProperties properties) {
        return ValidatedSettings.from(properties);
    }

    @Bean
    @ConditionalOnMissingBean
    LiquibaseGuard pgMigrateLiquibaseGuard(GuardSettings settings, PgMigrateProperties properties,
            ObjectProvider<BlockingAction> action, ObjectProvider<GuardListener> listeners) {
        // checked even when a BlockingAction bean replaces it: a wrong value is a mistake either way
        StandardBlockingAction configured = ValidatedSettings.blockingAction(properties);
        return new LiquibaseGuard(settings, action.getIfAvailable(() -> configured),
                GuardListener.of(listeners.orderedStream().toList()))
            .withWatcherDataSource(WatcherDataSources::derivedFrom);
    }

    @Bean
    static GuardingLiquibasePostProcessor pgMigrateGuardingLiquibasePostProcessor(
            ObjectProvider<LiquibaseGuard> guard) {
        return new GuardingLiquibasePostProcessor(guard);
    }
}
