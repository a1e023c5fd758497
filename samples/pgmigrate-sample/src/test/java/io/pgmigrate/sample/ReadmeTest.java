package io.pgmigrate.sample;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.TreeSet;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import org.junit.jupiter.api.Test;

import org.springframework.boot.json.JsonParserFactory;

/** The README promises what the build delivers. */
class ReadmeTest {

    private static final Path ROOT = Path.of("../..");

    @Test
    void everyDocumentedPropertyExistsAndEveryPropertyIsDocumented() throws IOException {
        Set<String> documented = new TreeSet<>();
        String readme = readme();
        int start = readme.indexOf("\n## Properties");
        String section = readme.substring(start, readme.indexOf("\n## ", start + 1));
        Matcher rows = Pattern.compile("(?m)^\\| `(pgmigrate\\.[a-z.-]+)` \\|").matcher(section);
        while (rows.find()) {
            documented.add(rows.group(1));
        }
        assertThat(documented).isEqualTo(metadataProperties());
    }

    @Test
    void theTestCommandIsTheOneCiRuns() throws IOException {
        String command = codeBlockAfter("Run the tests");
        List<String> ciLines = Files.readAllLines(ROOT.resolve(".ci/run"));
        assertThat(command).isEqualTo("./mvnw verify");
        assertThat(ciLines).contains(command);
    }

    @Test
    void theSampleCommandRunsTheDemoOfThisModule() throws IOException {
        String command = codeBlockAfter("Run the sample's demo");
        assertThat(command).contains("-pl samples/pgmigrate-sample").contains("-Pdemo");
        assertThat(Files.readString(Path.of("pom.xml"))).contains("<mainClass>io.pgmigrate.sample.IncidentDemo");
    }

    private static String codeBlockAfter(String lead) throws IOException {
        String readme = readme();
        int at = readme.indexOf(lead);
        assertThat(at).as("README mentions '%s'", lead).isNotNegative();
        Matcher block = Pattern.compile("```sh\\n(.*?)\\n```", Pattern.DOTALL).matcher(readme);
        assertThat(block.find(at)).isTrue();
        return block.group(1).trim();
    }

    private static String readme() throws IOException {
        return Files.readString(ROOT.resolve("README.md"));
    }

    @SuppressWarnings("unchecked")
    private static Set<String> metadataProperties() throws IOException {
        List<String> names = new ArrayList<>();
        for (var resource : java.util.Collections.list(ReadmeTest.class.getClassLoader()
            .getResources("META-INF/spring-configuration-metadata.json"))) {
            try (InputStream in = resource.openStream()) {
                var json = JsonParserFactory.getJsonParser()
                    .parseMap(new String(in.readAllBytes(), StandardCharsets.UTF_8));
                for (Object property : (List<Object>) json.get("properties")) {
                    names.add((String) ((java.util.Map<String, Object>) property).get("name"));
                }
            }
        }
        return new TreeSet<>(names.stream().filter((name) -> name.startsWith("pgmigrate.")).toList());
    }
}
