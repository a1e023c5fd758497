package io.pgmigrate.autoconfigure;

import org.springframework.boot.actuate.autoconfigure.endpoint.EndpointAutoConfiguration;
import org.springframework.boot.autoconfigure.ImportAutoConfiguration;
import org.springframework.boot.flyway.autoconfigure.FlywayAutoConfiguration;
import org.springframework.boot.flyway.autoconfigure.FlywayMigrationStrategy;
import org.springframework.boot.jdbc.autoconfigure.DataSourceAutoConfiguration;
import org.springframework.boot.micrometer.metrics.autoconfigure.CompositeMeterRegistryAutoConfiguration;
import org.springframework.boot.micrometer.metrics.autoconfigure.MetricsAutoConfiguration;
import org.springframework.boot.micrometer.metrics.autoconfigure.export.simple.SimpleMetricsExportAutoConfiguration;
import org.springframework.context.annotation.Configuration;

/**
 * Spring Boot 4's classes, by the names the behaviour suite that both generations share uses for them (each
 * generation's test sources have a {@code BootGeneration} of their own).
 */
public final class BootGeneration {

    /** The Spring Boot generation these tests run on. */
    public static final int MAJOR = 4;

    /** Spring Boot's auto-configurations of a DataSource and of Flyway on it. */
    public static final Class<?>[] FLYWAY = { DataSourceAutoConfiguration.class, FlywayAutoConfiguration.class };

    /** Spring Boot's auto-configurations of Micrometer with a simple registry, and of the actuator's endpoints. */
    public static final Class<?>[] METRICS_AND_ENDPOINTS = { MetricsAutoConfiguration.class,
            SimpleMetricsExportAutoConfiguration.class, CompositeMeterRegistryAutoConfiguration.class,
            EndpointAutoConfiguration.class };

    /** Spring Boot's {@code FlywayMigrationStrategy}. */
    public static final Class<?> MIGRATION_STRATEGY = FlywayMigrationStrategy.class;

    private BootGeneration() {
    }

    /** A {@code FlywayMigrationStrategy} of Spring Boot's, for the strategies the tests define. */
    @FunctionalInterface
    public interface MigrationStrategy extends FlywayMigrationStrategy {

    }

    /** DataSource, Flyway and pgmigrate, and nothing else. */
    @Configuration(proxyBeanMethods = false)
    @ImportAutoConfiguration({ DataSourceAutoConfiguration.class, FlywayAutoConfiguration.class,
            PgMigrateAutoConfiguration.class })
    public static class FlywayApplication {

    }
}
