package io.pgmigrate.sample.liquibase;

import org.springframework.boot.SpringApplication;
import org.springframework.boot.autoconfigure.SpringBootApplication;

/**
 * An ordinary Spring Boot application with a Liquibase changelog and the pgmigrate starter, and no Flyway: give it
 * {@code spring.datasource.url} (the demo does).
 */
@SpringBootApplication
public class LiquibaseSampleApplication {

    /** Starts the application. */
    public static void main(String[] args) {
        SpringApplication.run(LiquibaseSampleApplication.class, args);
    }
}
