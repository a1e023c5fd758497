package io.pgmigrate.autoconfigure;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

import org.springframework.boot.test.context.FilteredClassLoader;
import org.springframework.boot.test.system.CapturedOutput;
import org.springframework.boot.test.system.OutputCaptureExtension;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * The INFO line about nothing guarded, in Spring Boot 4 applications with Liquibase and without Flyway (hidden by
 * the class loader), on H2.
 */
@ExtendWith(OutputCaptureExtension.class)
class LiquibaseStartupCheckTests {

    private static final String UNGUARDED = "pgmigrate is on the classpath but guards no migration: reason=";

    @Test
    void saysNothingWhenItGuardsBootsLiquibase(CapturedOutput output) {
        StartupCheckTests.start(new FilteredClassLoader("org.flywaydb"), "--spring.liquibase.enabled=true",
                "--spring.liquibase.change-log=classpath:db/changelog/empty.yaml");
        assertThat(output).doesNotContain(UNGUARDED)
            .contains("pgmigrate: not guarding the update, the database is not PostgreSQL");
    }

    @Test
    void saysWhyForEachToolWhenLiquibaseIsSwitchedOff(CapturedOutput output) {
        StartupCheckTests.start(new FilteredClassLoader("org.flywaydb"), "--spring.liquibase.enabled=false");
        assertThat(output).containsOnlyOnce(UNGUARDED + "\"Flyway is not on the classpath: add "
                + "org.springframework.boot:spring-boot-starter-flyway; Liquibase: the application has no "
                + "SpringLiquibase bean (spring.liquibase.enabled is false, or there is no DataSource)\"");
    }

    @Test
    void saysNothingWhenItGuardsLiquibaseButNotFlyway(CapturedOutput output) {
        StartupCheckTests.start(null, "--spring.flyway.enabled=false", "--spring.liquibase.enabled=true",
                "--spring.liquibase.change-log=classpath:db/changelog/empty.yaml");
        assertThat(output).doesNotContain(UNGUARDED);
    }
}
