package io.pgmigrate.autoconfigure.reliability;

import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.sql.SQLException;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;

import javax.sql.DataSource;

import io.micrometer.core.instrument.MeterRegistry;
import io.pgmigrate.autoconfigure.TestApplications;
import io.pgmigrate.testsupport.TestDatabase;
import org.awaitility.core.ConditionFactory;
import org.flywaydb.core.Flyway;

import org.springframework.boot.json.JsonParserFactory;
import org.springframework.context.ConfigurableApplicationContext;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

/**
 * Whole applications (web server, actuator, Micrometer, Flyway, pgmigrate) starting against the test database;
 * each test migrates a schema of its own with {@code db/app}: V1 creates {@code accounts}, V2 adds a column.
 */
final class Startup {

    /** Generous: the tests must pass on a loaded 2-core machine. */
    static final Duration DEADLINE = Duration.ofSeconds(60);

    private Startup() {
    }

    static ConditionFactory eventually() {
        return await().atMost(DEADLINE).pollInterval(Duration.ofMillis(20));
    }

    /** Applies V1 ({@code accounts}) to the schema with plain Flyway, connected through the given DataSource. */
    static void applyV1(DataSource dataSource, String schema) {
        Flyway.configure().dataSource(dataSource).schemas(schema).locations("classpath:db/app").target("1").load()
            .migrate();
    }

    /**
     * Starts the application on a thread of its own: its start-up runs the guarded migration, which a test can
     * interfere with while it runs. Connects as the test's superuser unless the properties say otherwise.
     */
    static CompletableFuture<ConfigurableApplicationContext> startInBackground(TestDatabase database, String schema,
            List<String> properties) {
        CompletableFuture<ConfigurableApplicationContext> result = new CompletableFuture<>();
        Thread thread = new Thread(() -> {
            try {
                result.complete(start(database, schema, properties));
            }
            catch (Throwable ex) {
                result.completeExceptionally(ex);
            }
        }, "test-startup-" + schema);
        thread.setDaemon(true);
        thread.start();
        return result;
    }

    /**
     * Starts the application on the schema, with {@code db/app} and a 20 ms poll interval; more configuration
     * classes (such as a Flyway callback of the test) may be given.
     */
    static ConfigurableApplicationContext start(TestDatabase database, String schema, List<String> properties,
            Class<?>... configurations) {
        return TestApplications.start(database, Map.of("spring.flyway.locations", "classpath:db/app",
                "spring.flyway.schemas", schema, "pgmigrate.poll-interval", "20ms"), properties, configurations);
    }

    static <T> T finish(CompletableFuture<T> work) throws Exception {
        try {
            return work.get(DEADLINE.toSeconds(), TimeUnit.SECONDS);
        }
        catch (ExecutionException ex) {
            if (ex.getCause() instanceof Exception cause) {
                throw cause;
            }
            throw ex;
        }
    }

    static boolean columnExists(TestDatabase database, String schema) throws SQLException {
        return Boolean.TRUE.equals(database.queryValue("SELECT EXISTS (SELECT 1 FROM information_schema.columns "
                + "WHERE table_schema = ? AND table_name = 'accounts' AND column_name = 'email')", schema));
    }

    /** Whether the guarded migration (application_name pgmigrate-migration) waits for a lock now. */
    static boolean migrationWaits(TestDatabase database) throws SQLException {
        return Boolean.TRUE.equals(database.queryValue("SELECT EXISTS (SELECT 1 FROM pg_stat_activity "
                + "WHERE datname = current_database() AND application_name = 'pgmigrate-migration' "
                + "AND wait_event_type = 'Lock')"));
    }

    static double counter(ConfigurableApplicationContext application, String name, String... tags) {
        return application.getBean(MeterRegistry.class).get(name).tags(tags).counter().count();
    }

    static Map<String, Object> get(ConfigurableApplicationContext application, String path) throws Exception {
        String port = application.getEnvironment().getProperty("local.server.port");
        HttpResponse<String> response = HttpClient.newHttpClient()
            .send(HttpRequest.newBuilder(URI.create("http://localhost:" + port + path))
                .timeout(Duration.ofSeconds(30))
                .build(), HttpResponse.BodyHandlers.ofString(java.nio.charset.StandardCharsets.UTF_8));
        assertThat(response.statusCode()).as("GET %s: %s", path, response.body()).isEqualTo(200);
        return JsonParserFactory.getJsonParser().parseMap(response.body());
    }

    @SuppressWarnings("unchecked")
    static <T> List<T> list(Object value) {
        return (List<T>) value;
    }
}
