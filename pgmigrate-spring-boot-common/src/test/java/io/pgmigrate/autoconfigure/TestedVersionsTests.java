package io.pgmigrate.autoconfigure;

import java.io.File;

import org.flywaydb.core.Flyway;
import org.junit.jupiter.api.Test;

import org.springframework.boot.SpringBootVersion;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * The Spring Boot and Flyway versions this run of the suite tests, in one line of its output
 * ({@code tested with: spring-boot=3.5.7 flyway=11.7.2}), which CI compares with README's compatibility table.
 */
class TestedVersionsTests {

    @Test
    void printsTheVersionsUnderTest() throws Exception {
        String boot = SpringBootVersion.getVersion();
        assertThat(boot).startsWith(BootGeneration.MAJOR + ".");
        String flywayJar = new File(Flyway.class.getProtectionDomain().getCodeSource().getLocation().toURI())
            .getName();
        assertThat(flywayJar).matches("flyway-core-[0-9][0-9.]*\\.jar");
        String flyway = flywayJar.substring("flyway-core-".length(), flywayJar.length() - ".jar".length());
        System.out.println("tested with: spring-boot=" + boot + " flyway=" + flyway);
    }
}
