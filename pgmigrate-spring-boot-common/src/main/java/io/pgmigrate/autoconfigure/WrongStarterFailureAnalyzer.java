package io.pgmigrate.autoconfigure;

import org.springframework.boot.diagnostics.AbstractFailureAnalyzer;
import org.springframework.boot.diagnostics.FailureAnalysis;

/**
 * Explains a start-up stopped because the pgmigrate starter does not fit the application's Spring Boot, and names
 * the starter to use instead.
 */
class WrongStarterFailureAnalyzer extends AbstractFailureAnalyzer<WrongStarterException> {

    @Override
    protected FailureAnalysis analyze(Throwable rootFailure, WrongStarterException cause) {
        StarterGeneration starter = cause.starter();
        String description = "The application runs Spring Boot " + cause.bootVersion() + ", but io.pgmigrate:"
                + starter.starter() + " (with " + autoconfigure(starter) + ") is built for " + starter.name()
                + ". Its classes and the Spring Boot modules it brings do not fit Spring Boot "
                + cause.bootVersion() + ", so pgmigrate stopped the start-up before any bean was created.";
        StarterGeneration fitting = StarterGeneration.of(StarterGeneration.majorOf(cause.bootVersion()));
        String action = (fitting != null)
                ? "Replace io.pgmigrate:" + starter.starter() + " with io.pgmigrate:" + fitting.starter()
                        + " (for " + fitting.name() + ") in the application's build, of the same version. It "
                        + "brings " + fitting.name() + "'s own Flyway support (" + fitting.flywaySupport() + ")."
                : "pgmigrate has starters for Spring Boot 3.5 (io.pgmigrate:" + StarterGeneration.SPRING_BOOT_3.starter()
                        + ") and Spring Boot 4 (io.pgmigrate:" + StarterGeneration.SPRING_BOOT_4.starter()
                        + "). Use one of those Spring Boot versions, or remove io.pgmigrate:" + starter.starter()
                        + " and guard Flyway from plain Java with io.pgmigrate:pgmigrate-core's FlywayGuard.";
        return new FailureAnalysis(description, action, cause);
    }

    private static String autoconfigure(StarterGeneration starter) {
        return starter.starter().replace("-starter", "-autoconfigure");
    }
}
