package io.pgmigrate.autoconfigure.metrics;

import io.pgmigrate.autoconfigure.PgMigrateAutoConfiguration;
import io.pgmigrate.autoconfigure.PgMigrateLiquibaseAutoConfiguration;
import io.pgmigrate.core.GuardSettings;
import io.micrometer.core.instrument.MeterRegistry;

import org.springframework.beans.factory.ObjectProvider;
import org.springframework.boot.autoconfigure.AutoConfiguration;
import org.springframework.boot.autoconfigure.condition.ConditionalOnBean;
import org.springframework.boot.autoconfigure.condition.ConditionalOnClass;
import org.springframework.boot.autoconfigure.condition.ConditionalOnMissingBean;
import org.springframework.context.annotation.Bean;

/**
 * Auto-configuration of the guard's Micrometer meters ({@link PgMigrateMetrics}), when Micrometer is on the
 * classpath and the application has a {@link MeterRegistry}.
 */
@AutoConfiguration(after = { PgMigrateAutoConfiguration.class, PgMigrateLiquibaseAutoConfiguration.class },
        afterName = { "org.springframework.boot.micrometer.metrics.autoconfigure.MetricsAutoConfiguration",
                "org.springframework.boot.micrometer.metrics.autoconfigure.CompositeMeterRegistryAutoConfiguration",
                "org.springframework.boot.micrometer.metrics.autoconfigure.export.simple.SimpleMetricsExportAutoConfiguration" })
@ConditionalOnClass(MeterRegistry.class)
@ConditionalOnBean({ GuardSettings.class, MeterRegistry.class })
public final class PgMigrateMetricsAutoConfiguration {

    @Bean
    @ConditionalOnMissingBean
    PgMigrateMetrics pgMigrateMetrics(ObjectProvider<MeterRegistry> registry) {
        return new PgMigrateMetrics(registry);
    }
}
