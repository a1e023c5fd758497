package io.pgmigrate.sample;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.util.Map;

import io.zonky.test.db.postgres.embedded.EmbeddedPostgres;

import org.springframework.context.ApplicationContextInitializer;
import org.springframework.context.ConfigurableApplicationContext;
import org.springframework.context.event.ContextClosedEvent;
import org.springframework.core.env.ConfigurableEnvironment;
import org.springframework.core.env.MapPropertySource;

/**
 * Starts an embedded PostgreSQL for the application when {@code spring.datasource.url} is not set, and
 * stops it with the application. With a URL, the application uses that server and this does nothing.
 */
final class LocalPostgres implements ApplicationContextInitializer<ConfigurableApplicationContext> {

    @Override
    public void initialize(ConfigurableApplicationContext context) {
        ConfigurableEnvironment environment = context.getEnvironment();
        if (environment.containsProperty("spring.datasource.url")) {
            return;
        }
        EmbeddedPostgres postgres = start();
        environment.getPropertySources().addFirst(new MapPropertySource("localPostgres", properties(postgres)));
        context.addApplicationListener((event) -> {
            if (event instanceof ContextClosedEvent) {
                stop(postgres);
            }
        });
    }

    /** Starts a PostgreSQL server on a free port, with a temporary data directory. */
    static EmbeddedPostgres start() {
        try {
            return EmbeddedPostgres.builder().start();
        }
        catch (IOException ex) {
            throw new UncheckedIOException("Could not start the embedded PostgreSQL", ex);
        }
    }

    /** The Spring Boot properties that point the application at the server. */
    static Map<String, Object> properties(EmbeddedPostgres postgres) {
        return Map.of("spring.datasource.url", postgres.getJdbcUrl("postgres", "postgres"),
                "spring.datasource.username", "postgres",
                "spring.datasource.password", "postgres");
    }

    static void stop(EmbeddedPostgres postgres) {
        try {
            postgres.close();
        }
        catch (IOException ex) {
            throw new UncheckedIOException("Could not stop the embedded PostgreSQL", ex);
        }
    }
}
