package io.pgmigrate.autoconfigure;

import org.springframework.context.ConfigurableApplicationContext;
import org.springframework.util.ClassUtils;

/**
 * The start-up checks of the Spring Boot 4 starter ({@link StartupCheck}), registered in this module's
 * {@code spring.factories}. This generation guards Liquibase too: the INFO line about nothing guarded says why no
 * Liquibase update was guarded either, when Liquibase is on the classpath.
 */
final class SpringBoot4StartupCheck extends StartupCheck {

    private static final String SPRING_LIQUIBASE = "liquibase.integration.spring.SpringLiquibase";

    SpringBoot4StartupCheck() {
        super(StarterGeneration.SPRING_BOOT_4);
    }

    @Override
    String liquibaseUnguardedBecause(ConfigurableApplicationContext context) {
        if (!ClassUtils.isPresent(SPRING_LIQUIBASE, context.getClassLoader())) {
            return null;
        }
        return LiquibaseCheck.unguardedBecause(context);
    }

    /** Loaded only when Liquibase is on the classpath: it names Liquibase's classes. */
    private static final class LiquibaseCheck {

        static String unguardedBecause(ConfigurableApplicationContext context) {
            String[] liquibases = context.getBeanFactory()
                .getBeanNamesForType(ClassUtils.resolveClassName(SPRING_LIQUIBASE, context.getClassLoader()), true,
                        false);
            if (liquibases.length == 0) {
                return "the application has no SpringLiquibase bean (spring.liquibase.enabled is false, or there is "
                        + "no DataSource)";
            }
            GuardingLiquibasePostProcessor guarding = context.getBeanProvider(GuardingLiquibasePostProcessor.class)
                .getIfAvailable();
            if (guarding == null) {
                return "pgmigrate's Liquibase auto-configuration did not run (excluded, or Spring Boot's Liquibase "
                        + "auto-configuration defined no SpringLiquibase bean)";
            }
            if (!guarding.guardedBootsLiquibase()) {
                return "the SpringLiquibase bean is the application's own, not Spring Boot's: guard its update with "
                        + "LiquibaseGuard";
            }
            return "";
        }
    }
}
