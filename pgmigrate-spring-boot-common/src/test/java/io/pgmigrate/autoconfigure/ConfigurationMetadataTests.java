package io.pgmigrate.autoconfigure;

import java.io.IOException;
import java.io.InputStream;
import java.net.URL;
import java.nio.charset.StandardCharsets;
import java.util.Collections;
import java.util.List;
import java.util.Map;
import java.util.stream.Collectors;

import io.pgmigrate.core.WatchSettings;
import org.junit.jupiter.api.Test;

import org.springframework.boot.convert.DurationStyle;
import org.springframework.boot.json.JsonParserFactory;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * The configuration metadata generated from {@link PgMigrateProperties} (what an IDE offers as completion)
 * describes every {@code pgmigrate.*} property, with the defaults the code uses.
 */
class ConfigurationMetadataTests {

    private static final List<String> PROPERTIES = List.of("pgmigrate.enabled", "pgmigrate.blocking-action",
            "pgmigrate.min-duration", "pgmigrate.poll-interval", "pgmigrate.lock-timeout", "pgmigrate.lock-retries",
            "pgmigrate.lock-retry-delay", "pgmigrate.exclude-application-names", "pgmigrate.exclude-users",
            "pgmigrate.max-query-length", "pgmigrate.act-on-snapshot-waits", "pgmigrate.max-application-stall");

    @Test
    void everyPropertyHasADescription() throws IOException {
        Map<String, Map<String, Object>> properties = pgmigrateProperties();
        assertThat(properties.keySet()).containsExactlyInAnyOrderElementsOf(PROPERTIES);
        properties.forEach((name, property) -> assertThat((String) property.get("description"))
            .as("description of %s", name)
            .isNotBlank());
    }

    @Test
    void defaultsAreThoseOfTheCode() throws IOException {
        Map<String, Map<String, Object>> properties = pgmigrateProperties();
        assertThat(properties.get("pgmigrate.enabled").get("defaultValue")).isEqualTo(true);
        assertThat(properties.get("pgmigrate.blocking-action").get("defaultValue")).isEqualTo("terminate");
        assertThat(DurationStyle.detectAndParse(
                properties.get("pgmigrate.poll-interval").get("defaultValue").toString()))
            .isEqualTo(WatchSettings.DEFAULT_POLL_INTERVAL);
        assertThat(((Number) properties.get("pgmigrate.max-query-length").get("defaultValue")).intValue())
            .isEqualTo(WatchSettings.DEFAULT_MAX_QUERY_LENGTH);
        assertThat(properties.get("pgmigrate.lock-retry-delay").get("defaultValue")).isEqualTo("1s");
        assertThat(properties.get("pgmigrate.lock-timeout")).doesNotContainKey("defaultValue");
        assertThat(DurationStyle.detectAndParse(
                properties.get("pgmigrate.max-application-stall").get("defaultValue").toString()))
            .isEqualTo(WatchSettings.DEFAULT_MAX_APPLICATION_STALL);
        assertThat(properties.get("pgmigrate.exclude-application-names").get("defaultValue"))
            .isEqualTo(List.copyOf(new java.util.TreeSet<>(WatchSettings.DEFAULT_EXCLUDED_APPLICATION_NAMES)));
        assertThat(properties.get("pgmigrate.act-on-snapshot-waits").get("defaultValue")).isEqualTo(false);
        // written as README writes it, not as the number 0
        assertThat(properties.get("pgmigrate.min-duration").get("defaultValue")).isEqualTo("0s");
    }

    @Test
    void minDurationSaysWhatAgeMeansOutsideATransaction() throws IOException {
        assertThat((String) pgmigrateProperties().get("pgmigrate.min-duration").get("description"))
            .contains("the age of their transaction")
            .contains("advisory lock")
            .contains("since its last statement ended");
    }

    @SuppressWarnings("unchecked")
    private static Map<String, Map<String, Object>> pgmigrateProperties() throws IOException {
        for (URL url : Collections.list(ConfigurationMetadataTests.class.getClassLoader()
            .getResources("META-INF/spring-configuration-metadata.json"))) {
            String json;
            try (InputStream in = url.openStream()) {
                json = new String(in.readAllBytes(), StandardCharsets.UTF_8);
            }
            List<Map<String, Object>> properties = (List<Map<String, Object>>) JsonParserFactory.getJsonParser()
                .parseMap(json)
                .get("properties");
            Map<String, Map<String, Object>> ours = properties.stream()
                .filter((property) -> property.get("name").toString().startsWith("pgmigrate."))
                .collect(Collectors.toMap((property) -> property.get("name").toString(), (property) -> property));
            if (!ours.isEmpty()) {
                return ours;
            }
        }
        throw new AssertionError("No META-INF/spring-configuration-metadata.json with pgmigrate.* properties");
    }
}
