package io.pgmigrate.flyway;

import static io.pgmigrate.flyway.Guarding.createOrders;
import static io.pgmigrate.flyway.Guarding.hasColumn;
import static io.pgmigrate.flyway.Guarding.reader;
import static org.assertj.core.api.Assertions.assertThat;

import java.io.File;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import io.pgmigrate.testsupport.PostgresTest;
import io.pgmigrate.testsupport.TestDatabase;
import io.pgmigrate.testsupport.TestSession;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * With a plain SLF4J binding ({@code slf4j-simple}, as in Maven's console), which prints key-value pairs in front
 * of the text, a blocker line still gives each detail once. The child JVM has this test's class path with
 * Logback swapped for {@code slf4j-simple}.
 */
@PostgresTest
class PlainLoggingTest {

    @Test
    void aBlockerLineReadsOnceWithSlf4jSimple(TestDatabase db, @TempDir Path dir) throws Exception {
        createOrders(db);
        TestSession blocker = reader(db, "report");
        Path output = dir.resolve("child.log");

        Process child = startChild(db, output);
        assertThat(child.waitFor(Guarding.DEADLINE.toSeconds(), TimeUnit.SECONDS)).as("child finished").isTrue();
        String log = Files.readString(output, StandardCharsets.UTF_8);
        assertThat(child.exitValue()).as("child exit; its output:%n%s", log).isZero();
        assertThat(blocker.isAlive()).isFalse();
        assertThat(hasColumn(db, "orders", "email")).isTrue();

        List<String> lines = log.lines().filter((line) -> line.contains("Terminated a session blocking")).toList();
        assertThat(lines).as("output:%n%s", log).singleElement().satisfies((line) -> {
            assertThat(line).contains("WARN io.pgmigrate - pgmigrate: Terminated a session blocking migration 2");
            for (String key : List.of("outcome=terminated", "pid=" + blocker.pid(), "blocked_pid=",
                    "application=report", "state=", "age=", "query=")) {
                assertThat(count(line, " " + key)).as("'%s' in %s", key, line).isEqualTo(1);
            }
        });
    }

    private static int count(String text, String part) {
        Matcher matcher = Pattern.compile(Pattern.quote(part)).matcher(text);
        int count = 0;
        while (matcher.find()) {
            count++;
        }
        return count;
    }

    /** A JVM of its own that runs {@link PlainLoggingChild} with slf4j-simple instead of Logback. */
    private static Process startChild(TestDatabase db, Path output) throws Exception {
        String simple = System.getProperty("slf4j-simple.jar");
        assertThat(simple).as("slf4j-simple.jar, set by the build").isNotBlank();
        assertThat(Path.of(simple)).exists();
        List<String> classPath = new ArrayList<>(Arrays.stream(System
            .getProperty("surefire.test.class.path", System.getProperty("java.class.path"))
            .split(File.pathSeparator)).filter((entry) -> !entry.contains("logback")).toList());
        classPath.add(simple);
        String java = Path.of(System.getProperty("java.home"), "bin", "java").toString();
        ProcessBuilder builder = new ProcessBuilder(java, "-cp", String.join(File.pathSeparator, classPath),
                PlainLoggingChild.class.getName(), db.jdbcUrl(), db.user(), db.password());
        builder.redirectErrorStream(true);
        builder.redirectOutput(output.toFile());
        return builder.start();
    }
}
