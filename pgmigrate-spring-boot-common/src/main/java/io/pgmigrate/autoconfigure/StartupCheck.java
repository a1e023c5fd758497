package io.pgmigrate.autoconfigure;

import io.pgmigrate.core.internal.LogLines;
import org.slf4j.Logger;

import org.springframework.boot.SpringBootVersion;
import org.springframework.boot.context.event.ApplicationEnvironmentPreparedEvent;
import org.springframework.boot.context.event.ApplicationStartedEvent;
import org.springframework.boot.context.event.SpringApplicationEvent;
import org.springframework.context.ApplicationListener;
import org.springframework.context.ConfigurableApplicationContext;
import org.springframework.core.Ordered;
import org.springframework.util.ClassUtils;

/**
 * What each starter checks as the application starts, registered in the {@code spring.factories} of its
 * auto-configuration module for its Spring Boot generation:
 * <ul>
 * <li>As soon as the environment is prepared, before any bean or other listener's work: that the application runs
 * the Spring Boot generation the starter is built for. Otherwise the start-up stops with a
 * {@link WrongStarterException}, which {@link WrongStarterFailureAnalyzer} explains, instead of a crash about an
 * unrelated bean or a guard that silently never runs.</li>
 * <li>Once the application has started: when pgmigrate guarded no migration, one INFO line that says so and why
 * (turned off, no Flyway or no Spring Boot Flyway support on the classpath, no Flyway bean of Spring Boot's). A
 * database that is not PostgreSQL is told by the guard itself, when Flyway migrates.</li>
 * </ul>
 * Uses only classes that every Spring Boot generation has, so that it works where the other generation's classes
 * are missing.
 */
abstract class StartupCheck implements ApplicationListener<SpringApplicationEvent>, Ordered {

    private static final Logger log = LogLines.logger("io.pgmigrate");

    private static final String FLYWAY = "org.flywaydb.core.Flyway";

    private final StarterGeneration generation;

    StartupCheck(StarterGeneration generation) {
        this.generation = generation;
    }

    @Override
    public int getOrder() {
        return Ordered.HIGHEST_PRECEDENCE;
    }

    @Override
    public void onApplicationEvent(SpringApplicationEvent event) {
        if (event instanceof ApplicationEnvironmentPreparedEvent) {
            checkGeneration(SpringBootVersion.getVersion());
        }
        else if (event instanceof ApplicationStartedEvent started) {
            String reason = unguardedBecause(started.getApplicationContext());
            if (reason != null) {
                log.atInfo()
                    .addKeyValue("reason", reason)
                    .log("pgmigrate is on the classpath but guards no migration: reason=\"{}\"", reason);
            }
        }
    }

    /** Fails when the given Spring Boot version is of another generation; an unknown version passes. */
    void checkGeneration(String bootVersion) {
        int major = StarterGeneration.majorOf(bootVersion);
        if (major != -1 && major != this.generation.major()) {
            throw new WrongStarterException(this.generation, bootVersion);
        }
    }

    /**
     * Why nothing was guarded in the started application, or {@code null} when Boot's Flyway or (where the
     * generation guards it) Boot's Liquibase is guarded.
     */
    String unguardedBecause(ConfigurableApplicationContext context) {
        if ("false".equalsIgnoreCase(context.getEnvironment().getProperty(OnGuardEnabledCondition.PROPERTY, "").trim())) {
            return OnGuardEnabledCondition.PROPERTY + " is false";
        }
        String flyway = flywayUnguardedBecause(context);
        if (flyway == null) {
            return null;
        }
        String liquibase = liquibaseUnguardedBecause(context);
        if (liquibase == null) {
            return flyway;
        }
        return liquibase.isEmpty() ? null : flyway + "; Liquibase: " + liquibase;
    }

    /**
     * For a generation that guards Liquibase: why Boot's Liquibase update was not guarded, or an empty text when it
     * was. {@code null}, the default, when the generation does not guard Liquibase or Liquibase is not on the
     * classpath: the reason then speaks of Flyway only.
     */
    String liquibaseUnguardedBecause(ConfigurableApplicationContext context) {
        return null;
    }

    /** Why Boot's Flyway was not guarded, or {@code null} when it is. */
    private String flywayUnguardedBecause(ConfigurableApplicationContext context) {
        ClassLoader classLoader = context.getClassLoader();
        if (!ClassUtils.isPresent(FLYWAY, classLoader)) {
            return "Flyway is not on the classpath: add " + this.generation.flywaySupport();
        }
        if (!ClassUtils.isPresent(this.generation.flywayAutoConfiguration(), classLoader)) {
            return "Spring Boot's Flyway support (" + this.generation.flywayAutoConfiguration()
                    + ") is not on the classpath: add " + this.generation.flywaySupport();
        }
        String[] flyways = context.getBeanFactory()
            .getBeanNamesForType(ClassUtils.resolveClassName(FLYWAY, classLoader), true, false);
        if (flyways.length == 0) {
            return "the application has no Flyway bean (spring.flyway.enabled is false, or there is no DataSource)";
        }
        GuardingFlywayPostProcessor guarding = context.getBeanProvider(GuardingFlywayPostProcessor.class)
            .getIfAvailable();
        if (guarding == null) {
            return "pgmigrate's auto-configuration did not run (excluded, or Spring Boot's Flyway auto-configuration "
                    + "defined no Flyway bean)";
        }
        if (!guarding.guardedBootsFlyway()) {
            return "the Flyway bean is the application's own, not Spring Boot's: guard it with "
                    + "FlywayGuard.migrate(flyway)";
        }
        return null;
    }
}
