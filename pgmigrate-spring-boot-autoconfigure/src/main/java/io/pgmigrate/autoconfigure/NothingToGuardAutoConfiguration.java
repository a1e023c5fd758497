package io.pgmigrate.autoconfigure;

import io.pgmigrate.core.internal.LogLines;
import org.slf4j.Logger;

import org.springframework.beans.factory.SmartInitializingSingleton;
import org.springframework.boot.autoconfigure.AutoConfiguration;
import org.springframework.boot.autoconfigure.condition.ConditionalOnMissingBean;
import org.springframework.context.ApplicationContext;
import org.springframework.context.annotation.Bean;
import org.springframework.context.annotation.Conditional;
import org.springframework.core.env.Environment;
import org.springframework.util.ClassUtils;

/**
 * When pgmigrate is on but has no migration to guard (no Flyway and no Liquibase bean of Spring Boot's, and no guard
 * bean of the application's), one INFO line says so and why, per tool: not on the classpath, switched off
 * ({@code spring.flyway.enabled=false}, {@code spring.liquibase.enabled=false}), or no bean (no DataSource, say).
 */
@AutoConfiguration(after = { PgMigrateAutoConfiguration.class, PgMigrateLiquibaseAutoConfiguration.class })
@Conditional(OnGuardEnabledCondition.class)
@ConditionalOnMissingBean(type = { "io.pgmigrate.flyway.FlywayGuard", "io.pgmigrate.liquibase.LiquibaseGuard" })
public final class NothingToGuardAutoConfiguration {

    private static final Logger log = LogLines.logger("io.pgmigrate");

    @Bean
    static SmartInitializingSingleton pgMigrateNothingToGuard(ApplicationContext context) {
        return () -> {
            Environment environment = context.getEnvironment();
            ClassLoader classLoader = context.getClassLoader();
            String flyway = reason(environment, classLoader, "Flyway", "org.flywaydb.core.Flyway",
                    "spring.flyway.enabled");
            String liquibase = reason(environment, classLoader, "Liquibase",
                    "liquibase.integration.spring.SpringLiquibase", "spring.liquibase.enabled");
            log.atInfo()
                .addKeyValue("flyway", flyway)
                .addKeyValue("liquibase", liquibase)
                .log("pgmigrate: guarding nothing, the application runs no Flyway or Liquibase migration at start-up: "
                        + "flyway=\"{}\" liquibase=\"{}\"", flyway, liquibase);
        };
    }

    private static String reason(Environment environment, ClassLoader classLoader, String tool, String className,
            String property) {
        if (!ClassUtils.isPresent(className, classLoader)) {
            return "not on the classpath";
        }
        if ("false".equalsIgnoreCase(environment.getProperty(property, "").trim())) {
            return property + "=false";
        }
        return "Spring Boot defined no " + tool + " bean (it needs a DataSource)";
    }
}
