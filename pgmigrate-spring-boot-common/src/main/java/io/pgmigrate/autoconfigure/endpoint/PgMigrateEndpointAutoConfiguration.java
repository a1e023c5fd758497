package io.pgmigrate.autoconfigure.endpoint;

import io.pgmigrate.autoconfigure.PgMigrateProperties;
import io.pgmigrate.core.GuardSettings;

import org.springframework.boot.actuate.autoconfigure.endpoint.condition.ConditionalOnAvailableEndpoint;
import org.springframework.boot.actuate.endpoint.annotation.Endpoint;
import org.springframework.boot.autoconfigure.AutoConfiguration;
import org.springframework.boot.autoconfigure.condition.ConditionalOnBean;
import org.springframework.boot.autoconfigure.condition.ConditionalOnClass;
import org.springframework.boot.autoconfigure.condition.ConditionalOnMissingBean;
import org.springframework.context.annotation.Bean;

/**
 * Auto-configuration of the {@code pgmigrate} actuator endpoint ({@link PgMigrateEndpoint}) and the history of
 * recent runs behind it, when Spring Boot's actuator is on the classpath and the endpoint is available
 * ({@code management.endpoints.web.exposure.include} or JMX).
 */
// by name: each Spring Boot generation has a PgMigrateAutoConfiguration of its own, under this name; Liquibase's
// is Spring Boot 4's only
@AutoConfiguration(afterName = { "io.pgmigrate.autoconfigure.PgMigrateAutoConfiguration",
        "io.pgmigrate.autoconfigure.PgMigrateLiquibaseAutoConfiguration" })
@ConditionalOnClass({ Endpoint.class, ConditionalOnAvailableEndpoint.class })
@ConditionalOnBean(GuardSettings.class)
@ConditionalOnAvailableEndpoint(PgMigrateEndpoint.class)
public final class PgMigrateEndpointAutoConfiguration {

    @Bean
    @ConditionalOnMissingBean
    MigrationHistory pgMigrateHistory() {
        return new MigrationHistory();
    }

    @Bean
    @ConditionalOnMissingBean
    PgMigrateEndpoint pgMigrateEndpoint(MigrationHistory history, PgMigrateProperties properties) {
        return new PgMigrateEndpoint(history, properties.getMaxQueryLength());
    }
}
