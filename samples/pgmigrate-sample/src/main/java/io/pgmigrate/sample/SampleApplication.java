package io.pgmigrate.sample;

import org.springframework.boot.autoconfigure.SpringBootApplication;
import org.springframework.boot.builder.SpringApplicationBuilder;

/**
 * An ordinary Spring Boot application with Flyway migrations and the pgmigrate starter. Without a
 * {@code spring.datasource.url} it runs on a local embedded PostgreSQL.
 */
@SpringBootApplication
public class SampleApplication {

    /** Starts the application. */
    public static void main(String[] args) {
        new SpringApplicationBuilder(SampleApplication.class).initializers(new LocalPostgres()).run(args);
    }
}
