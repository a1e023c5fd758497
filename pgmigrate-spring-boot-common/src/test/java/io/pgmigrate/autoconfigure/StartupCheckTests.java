package io.pgmigrate.autoconfigure;

import java.util.ArrayList;
import java.util.List;
import java.util.UUID;

import org.flywaydb.core.Flyway;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

import org.springframework.boot.SpringApplication;
import org.springframework.boot.SpringBootVersion;
import org.springframework.boot.WebApplicationType;
import org.springframework.boot.diagnostics.FailureAnalysis;
import org.springframework.boot.test.context.FilteredClassLoader;
import org.springframework.boot.test.system.CapturedOutput;
import org.springframework.boot.test.system.OutputCaptureExtension;
import org.springframework.context.ApplicationListener;
import org.springframework.context.annotation.Bean;
import org.springframework.context.annotation.Configuration;
import org.springframework.core.io.DefaultResourceLoader;
import org.springframework.core.io.support.SpringFactoriesLoader;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowableOfType;

/**
 * What the starter says as an application starts: one INFO line, with the reason, when pgmigrate is there but
 * guards nothing, and none when it guards Boot's Flyway; and the analysis of a starter of the other Spring Boot
 * generation. Applications on H2, started as a user starts them ({@code SpringApplication}, every
 * auto-configuration of the classpath). Spring Boot 4's own case, its Flyway module left out, is
 * {@code MissingFlywayModuleTests} of the Spring Boot 4 auto-configuration.
 */
@ExtendWith(OutputCaptureExtension.class)
class StartupCheckTests {

    private static final String UNGUARDED = "pgmigrate is on the classpath but guards no migration: reason=";

    @Test
    void saysNothingWhenItGuardsBootsFlyway(CapturedOutput output) {
        start(null);
        assertThat(output).doesNotContain(UNGUARDED);
        // the guard itself says why this migration is not watched: H2 is not PostgreSQL
        assertThat(output).contains("pgmigrate: not guarding the migration, the database is not PostgreSQL");
    }

    @Test
    void saysSoWhenDisabled(CapturedOutput output) {
        start(null, "--pgmigrate.enabled=false");
        assertThat(output).containsOnlyOnce(UNGUARDED + "\"pgmigrate.enabled is false\"");
    }

    @Test
    void saysSoWhenBootDefinesNoFlyway(CapturedOutput output) {
        start(null, "--spring.flyway.enabled=false");
        assertThat(output).containsOnlyOnce(UNGUARDED + "\"the application has no Flyway bean "
                + "(spring.flyway.enabled is false, or there is no DataSource)");
    }

    @Test
    void saysSoWhenTheFlywayBeanIsTheApplicationsOwn(CapturedOutput output) {
        start(null, OwnFlyway.class);
        assertThat(output).containsOnlyOnce(UNGUARDED + "\"the Flyway bean is the application's own, not "
                + "Spring Boot's: guard it with FlywayGuard.migrate(flyway)");
    }

    @Test
    void saysSoWithoutFlyway(CapturedOutput output) {
        start(new FilteredClassLoader("org.flywaydb"));
        assertThat(output).containsOnlyOnce(UNGUARDED + "\"Flyway is not on the classpath: add "
                + generation().flywaySupport());
    }

    @Test
    void theStarterOfThisGenerationIsRegisteredAndFits() {
        assertThat(SpringBootVersion.getVersion()).startsWith(BootGeneration.MAJOR + ".");
        assertThat(SpringFactoriesLoader.forDefaultResourceLocation(getClass().getClassLoader())
            .load(ApplicationListener.class)).filteredOn(StartupCheck.class::isInstance)
            .singleElement()
            .extracting((listener) -> listener.getClass().getSimpleName())
            .isEqualTo("SpringBoot" + BootGeneration.MAJOR + "StartupCheck");
        new StartupCheck(generation()) { }.checkGeneration(SpringBootVersion.getVersion());
    }

    @Test
    void theAnalysisOfTheOtherGenerationsStarterNamesTheVersionAndTheStarterToUse() {
        StarterGeneration other = StarterGeneration.of(7 - BootGeneration.MAJOR);
        String running = SpringBootVersion.getVersion();
        WrongStarterException wrong = catchThrowableOfType(WrongStarterException.class,
                () -> new StartupCheck(other) { }.checkGeneration(running));
        FailureAnalysis analysis = new WrongStarterFailureAnalyzer().analyze(wrong);
        assertThat(analysis.getDescription()).startsWith("The application runs Spring Boot " + running
                + ", but io.pgmigrate:" + other.starter() + " (with "
                + other.starter().replace("-starter", "-autoconfigure") + ") is built for " + other.name());
        assertThat(analysis.getAction()).startsWith("Replace io.pgmigrate:" + other.starter() + " with io.pgmigrate:"
                + generation().starter() + " (for " + generation().name() + ")");
    }

    @Test
    void aSpringBootWithoutAStarterIsToldWhichVersionsHaveOne() {
        WrongStarterException wrong = catchThrowableOfType(WrongStarterException.class,
                () -> new StartupCheck(generation()) { }.checkGeneration("2.7.18"));
        assertThat(new WrongStarterFailureAnalyzer().analyze(wrong).getAction()).startsWith(
                "pgmigrate has starters for Spring Boot 3.5 (io.pgmigrate:pgmigrate-spring-boot3-starter) and Spring "
                        + "Boot 4 (io.pgmigrate:pgmigrate-spring-boot-starter).");
    }

    private static StarterGeneration generation() {
        return StarterGeneration.of(BootGeneration.MAJOR);
    }

    /** Starts and stops an application on H2, its classes loaded through the given class loader if any. */
    static void start(ClassLoader classLoader, Object... argumentsAndConfigurations) {
        List<Class<?>> sources = new ArrayList<>(List.of(TestApplications.Application.class));
        List<String> arguments = new ArrayList<>(List.of("--spring.main.banner-mode=off",
                "--spring.datasource.url=jdbc:h2:mem:" + UUID.randomUUID() + ";DB_CLOSE_DELAY=-1",
                "--spring.datasource.username=sa", "--spring.datasource.password=",
                "--spring.flyway.locations=classpath:db/none"));
        for (Object item : argumentsAndConfigurations) {
            if (item instanceof Class<?> configuration) {
                sources.add(configuration);
            }
            else {
                arguments.add((String) item);
            }
        }
        if (arguments.stream().noneMatch((argument) -> argument.startsWith("--spring.liquibase.enabled="))) {
            // Spring Boot 4's test classpath has Liquibase too: off unless a test turns it on
            arguments.add("--spring.liquibase.enabled=false");
        }
        SpringApplication application = (classLoader != null)
                ? new SpringApplication(new DefaultResourceLoader(classLoader), sources.toArray(Class<?>[]::new))
                : new SpringApplication(sources.toArray(Class<?>[]::new));
        application.setWebApplicationType(WebApplicationType.NONE);
        application.run(arguments.toArray(String[]::new)).close();
    }

    @Configuration(proxyBeanMethods = false)
    static class OwnFlyway {

        @Bean
        Flyway ownFlyway(javax.sql.DataSource dataSource) {
            return Flyway.configure().dataSource(dataSource).locations("classpath:db/none").load();
        }
    }
}
