package io.pgmigrate.sample;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import org.junit.jupiter.api.Test;

import org.springframework.boot.builder.SpringApplicationBuilder;
import org.springframework.context.ConfigurableApplicationContext;

/**
 * The exposure line README gives is the sample's, and with it the sample serves health, metrics (pgmigrate's
 * meters among them) and the pgmigrate endpoint.
 */
class ActuatorExposureTest {

    private static final Path ROOT = Path.of("../..");

    @Test
    void theDocumentedExposureServesHealthMetricsAndPgmigrate() throws Exception {
        String include = documentedExposure();
        assertThat(include).isEqualTo("health,metrics,pgmigrate");
        assertThat(Files.readString(Path.of("src/main/resources/application.yml")))
            .contains("include: " + include);

        try (ConfigurableApplicationContext application = new SpringApplicationBuilder(SampleApplication.class)
            .initializers(new LocalPostgres())
            .run("--server.port=0", "--spring.main.banner-mode=off",
                    "--management.endpoints.web.exposure.include=" + include)) {
            String port = application.getEnvironment().getProperty("local.server.port");
            HttpClient client = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(10)).build();
            for (String path : new String[] { "/actuator/health", "/actuator/metrics/pgmigrate.blockers",
                    "/actuator/pgmigrate" }) {
                HttpResponse<String> response = client.send(HttpRequest
                    .newBuilder(URI.create("http://localhost:" + port + path))
                    .timeout(Duration.ofSeconds(30))
                    .build(), HttpResponse.BodyHandlers.ofString());
                assertThat(response.statusCode()).as("%s: %s", path, response.body()).isEqualTo(200);
            }
        }
    }

    /** The value README's actuator section gives for management.endpoints.web.exposure.include. */
    private static String documentedExposure() throws IOException {
        String readme = Files.readString(ROOT.resolve("README.md"));
        int section = readme.indexOf("\n## Metrics and the actuator endpoint");
        assertThat(section).isNotNegative();
        Matcher line = Pattern.compile("management\\.endpoints\\.web\\.exposure\\.include=([a-z,*]+)")
            .matcher(readme);
        assertThat(line.find(section)).as("README gives the exposure line").isTrue();
        return line.group(1);
    }
}
