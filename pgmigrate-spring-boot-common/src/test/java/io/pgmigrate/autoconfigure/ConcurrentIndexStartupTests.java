package io.pgmigrate.autoconfigure;

import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.List;
import java.util.Map;

import io.pgmigrate.flyway.NonTransactionalLockTimeoutException;
import io.pgmigrate.testsupport.PostgresTest;
import io.pgmigrate.testsupport.TestDatabase;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

import org.springframework.boot.diagnostics.FailureAnalysis;
import org.springframework.boot.json.JsonParserFactory;
import org.springframework.boot.test.system.CapturedOutput;
import org.springframework.boot.test.system.OutputCaptureExtension;
import org.springframework.context.ConfigurableApplicationContext;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowable;
import static org.junit.jupiter.api.Assertions.assertTimeoutPreemptively;

/**
 * A whole application whose Flyway applies V1 (a table) and V2 ({@code CREATE INDEX CONCURRENTLY}, marked
 * {@code executeInTransaction=false}) at start-up, against a real PostgreSQL, each test in a schema of its own.
 */
@PostgresTest
@ExtendWith(OutputCaptureExtension.class)
class ConcurrentIndexStartupTests {

    private static final Duration DEADLINE = Duration.ofSeconds(90);

    private static final String MIGRATION = "2 (index orders)";

    @Test
    void underFlywaysDefaultsTheStartupFailsWithTheFixAndTheIndexToDrop(TestDatabase database, CapturedOutput output)
            throws Exception {
        Throwable failure = assertTimeoutPreemptively(DEADLINE,
                () -> catchThrowable(() -> start(database, "cic_default", "pgmigrate.lock-timeout=2s").close()));

        NonTransactionalLockTimeoutException cause = TestApplications.cause(failure,
                NonTransactionalLockTimeoutException.class);
        assertThat(cause.migration()).isEqualTo(MIGRATION);
        assertThat(cause.selfBlocked()).isTrue();
        assertThat(cause.invalidIndexes()).containsExactly("cic_default.orders_total_idx");
        assertThat(database.queryValue("SELECT count(*) FROM pg_index WHERE NOT indisvalid "
                + "AND indexrelid = 'cic_default.orders_total_idx'::regclass")).isEqualTo(1L);
        assertThat(database.queryValue("SELECT count(*) FROM cic_default.flyway_schema_history "
                + "WHERE version = '2' AND success")).isEqualTo(0L);

        FailureAnalysis analysis = new NonTransactionalLockTimeoutFailureAnalyzer().analyze(failure);
        assertThat(analysis.getDescription()).contains("Migration " + MIGRATION + " does not run in a transaction")
            .contains("It waited for Flyway's own connection, which pgmigrate never ends")
            .contains("CREATE INDEX CONCURRENTLY waits for older transactions")
            .contains("application pgmigrate-migration");
        assertThat(analysis.getAction()).startsWith("Set spring.flyway.postgresql.transactional-lock=false")
            .contains("plain Flyway: flyway.postgresql.transactional.lock=false")
            .contains("DROP INDEX CONCURRENTLY IF EXISTS cic_default.orders_total_idx;")
            .contains("repair");
        // one ERROR line while it waited, and Spring Boot printed the analysis
        assertThat(output.getOut().lines()
            .filter((line) -> line.contains("pgmigrate: Migration " + MIGRATION + " waits for Flyway's own connection")))
            .hasSize(1);
        assertThat(output).contains("APPLICATION FAILED TO START")
            .contains("It waited for Flyway's own connection")
            .contains("DROP INDEX CONCURRENTLY IF EXISTS cic_default.orders_total_idx;");
    }

    @Test
    void withTheTransactionalLockDisabledTheIndexIsBuilt(TestDatabase database) throws Exception {
        try (ConfigurableApplicationContext application = assertTimeoutPreemptively(DEADLINE,
                () -> start(database, "cic_fixed", "pgmigrate.lock-timeout=2s",
                        "spring.flyway.postgresql.transactional-lock=false"))) {
            assertThat(database.queryValue("SELECT indisvalid FROM pg_index "
                    + "WHERE indexrelid = 'cic_fixed.orders_total_idx'::regclass")).isEqualTo(true);
            assertThat(database.queryValue("SELECT count(*) FROM cic_fixed.flyway_schema_history "
                    + "WHERE version = '2' AND success")).isEqualTo(1L);
            Map<String, Object> run = runs(application).get(0);
            assertThat(run).containsEntry("outcome", "success").containsEntry("selfBlocked", List.of());
            assertThat(run.get("migrations")).isEqualTo(List.of("1 (create orders)", MIGRATION));
        }
    }

    private static ConfigurableApplicationContext start(TestDatabase database, String schema, String... properties) {
        return TestApplications.start(database,
                Map.of("spring.flyway.locations", "classpath:db/cic", "spring.flyway.schemas", schema),
                List.of(properties));
    }

    @SuppressWarnings("unchecked")
    private static List<Map<String, Object>> runs(ConfigurableApplicationContext application) throws Exception {
        String port = application.getEnvironment().getProperty("local.server.port");
        HttpResponse<String> response = HttpClient.newHttpClient()
            .send(HttpRequest.newBuilder(URI.create("http://localhost:" + port + "/actuator/pgmigrate"))
                .timeout(Duration.ofSeconds(30))
                .build(), HttpResponse.BodyHandlers.ofString());
        assertThat(response.statusCode()).as(response.body()).isEqualTo(200);
        return (List<Map<String, Object>>) JsonParserFactory.getJsonParser().parseMap(response.body()).get("runs");
    }
}
