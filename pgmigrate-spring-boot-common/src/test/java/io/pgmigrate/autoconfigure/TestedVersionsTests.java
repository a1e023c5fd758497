package io.pgmigrate.autoconfigure;

import java.io.File;

import liquibase.Liquibase;
import org.flywaydb.core.Flyway;
import org.junit.jupiter.api.Test;

import org.springframework.boot.SpringBootVersion;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * The Spring Boot, Flyway and Liquibase versions this run of the suite tests, in one line of its output
 * ({@code tested with: spring-boot=3.5.7 flyway=11.7.2 liquibase=4.31.1}), which CI compares with README's
 * compatibility table.
 */
class TestedVersionsTests {

    @Test
    void printsTheVersionsUnderTest() throws Exception {
        String boot = SpringBootVersion.getVersion();
        assertThat(boot).startsWith(BootGeneration.MAJOR + ".");
        String flyway = versionOf(Flyway.class, "flyway-core");
        String liquibase = versionOf(Liquibase.class, "liquibase-core");
        System.out.println("tested with: spring-boot=" + boot + " flyway=" + flyway + " liquibase=" + liquibase);
    }

    /** The version in the name of the jar the class comes from ({@code flyway-core-11.7.2.jar}). */
    private static String versionOf(Class<?> type, String artifact) throws Exception {
        String jar = new File(type.getProtectionDomain().getCodeSource().getLocation().toURI()).getName();
        assertThat(jar).matches(artifact + "-[0-9][0-9.]*\\.jar");
        return jar.substring(artifact.length() + 1, jar.length() - ".jar".length());
    }
}
