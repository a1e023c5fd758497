package io.pgmigrate.autoconfigure.reliability;

import io.pgmigrate.autoconfigure.metrics.PgMigrateMetrics;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CompletableFuture;

import io.micrometer.core.instrument.Meter;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Tag;
import io.pgmigrate.testsupport.PostgresTest;
import io.pgmigrate.testsupport.TestDatabase;
import io.pgmigrate.testsupport.TestSession;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

import org.springframework.boot.test.system.CapturedOutput;
import org.springframework.boot.test.system.OutputCaptureExtension;
import org.springframework.context.ConfigurableApplicationContext;

import static io.pgmigrate.autoconfigure.reliability.Startup.columnExists;
import static io.pgmigrate.autoconfigure.reliability.Startup.counter;
import static io.pgmigrate.autoconfigure.reliability.Startup.eventually;
import static io.pgmigrate.autoconfigure.reliability.Startup.finish;
import static io.pgmigrate.autoconfigure.reliability.Startup.list;
import static io.pgmigrate.autoconfigure.reliability.Startup.startInBackground;
import static org.assertj.core.api.Assertions.assertThat;

/**
 * Issue 7: hostile input reaching a real start-up: SQL in the exclusion properties, and blockers whose query
 * texts are very long and far from ASCII, as they show in the log, the meters and the actuator endpoint.
 */
@PostgresTest
@ExtendWith(OutputCaptureExtension.class)
class HostileInputStartupTests {

    private static final String HOSTILE_APPLICATION = "x'); DROP TABLE victim; --";

    @Test
    void sqlInTheExclusionPropertiesIsMatchedLiterallyAndNeverExecuted(TestDatabase database, CapturedOutput output)
            throws Exception {
        Startup.applyV1(database.dataSource(), "excl");
        database.execute("CREATE TABLE victim (id int)", "CREATE TABLE excl.victim (id int)");
        // a role whose name holds a quote; created quoted, dropped at the end
        String quotedUser = database.name() + "_o'brien";
        String identifier = "\"" + quotedUser + "\"";
        database.execute("CREATE ROLE " + identifier + " LOGIN PASSWORD '" + quotedUser.replace("'", "''") + "'",
                "GRANT USAGE ON SCHEMA excl TO " + identifier, "GRANT SELECT ON excl.accounts TO " + identifier);
        try {
            TestSession byName = database.session(HOSTILE_APPLICATION).begin()
                .execute("SELECT count(*) FROM excl.accounts");
            TestSession byUser = database.sessionAs(quotedUser, "reporting").begin()
                .execute("SELECT count(*) FROM excl.accounts");
            // a prefix of the excluded name: matched literally, an exact match only, so it is not excluded
            TestSession prefix = database.session("x").begin().execute("SELECT count(*) FROM excl.accounts");
            CompletableFuture<ConfigurableApplicationContext> startup = startInBackground(database, "excl",
                    List.of("pgmigrate.exclude-application-names[0]=" + HOSTILE_APPLICATION,
                            "pgmigrate.exclude-users[0]=" + quotedUser));
            eventually().until(() -> startup.isDone() || (!prefix.isAlive()
                    && output.getOut().lines().filter((line) -> line.contains("Not acting on an excluded session"))
                        .count() >= 2));
            assertThat(startup).as("the excluded sessions hold the start-up").isNotDone();
            assertThat(byName.isAlive()).isTrue();
            assertThat(byUser.isAlive()).isTrue();
            byName.rollback();
            byUser.rollback();

            try (ConfigurableApplicationContext application = finish(startup)) {
                assertThat(columnExists(database, "excl")).isTrue();
                assertThat(database.queryValue("SELECT count(*) FROM pg_tables WHERE tablename = 'victim'"))
                    .as("both victim tables are still there").isEqualTo(2L);
                assertThat(counter(application, PgMigrateMetrics.BLOCKERS, "action", "ignored")).isEqualTo(2.0);
                assertThat(counter(application, PgMigrateMetrics.BLOCKERS, "action", "terminated")).isEqualTo(1.0);
                List<Map<String, Object>> blockers = list(list(Startup.get(application, "/actuator/pgmigrate")
                    .get("runs")).stream().map((run) -> ((Map<?, ?>) run).get("blockers")).findFirst().orElseThrow());
                assertThat(blockers).anySatisfy((seen) -> assertThat(seen)
                    .containsEntry("applicationName", HOSTILE_APPLICATION).containsEntry("action", "excluded"));
                assertThat(blockers).anySatisfy((seen) -> assertThat(seen)
                    .containsEntry("user", quotedUser).containsEntry("action", "excluded"));
                assertThat(blockers).anySatisfy((seen) -> assertThat(seen)
                    .containsEntry("applicationName", "x").containsEntry("action", "terminated"));
            }
            assertThat(prefix.isAlive()).isFalse();
            assertThat(byName.isAlive()).isTrue();
            assertThat(byUser.isAlive()).isTrue();
            byUser.close();
        }
        finally {
            database.execute("SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE usename = '"
                    + quotedUser.replace("'", "''") + "'", "DROP OWNED BY " + identifier);
            eventually().until(() -> Long.valueOf(0).equals(database.queryValue(
                    "SELECT count(*) FROM pg_stat_activity WHERE usename = ?", quotedUser)));
            database.execute("DROP ROLE " + identifier);
        }
    }

    @Test
    void longNonAsciiQueryTextsAreCappedOnOneLogLineKeptWholeInTheEndpointAndNeverInTags(TestDatabase database,
            CapturedOutput output) throws Exception {
        Startup.applyV1(database.dataSource(), "texts");
        // emoji (surrogate pairs), CJK, Arabic and Hebrew (right to left), line breaks of every kind; 100,000 chars
        String unit = "\uD83D\uDE00 订单 \u0645\u0631\u062D\u0628\u0627 \u05E9\u05DC\u05D5\u05DD\n\u2028\u0085 ";
        String text = unit.repeat(100_000 / unit.length() + 1).substring(0, 100_000);
        String query = "SELECT /* " + text + " */ count(*) FROM texts.accounts";
        TestSession report = database.session("reporting").begin().execute(query);
        // "SELECT /* " is 10 characters, a unit 19 (as PostgreSQL counts them): the cut falls right after an emoji
        int maxQueryLength = 30;

        try (ConfigurableApplicationContext application = Startup.start(database, "texts",
                List.of("pgmigrate.max-query-length=" + maxQueryLength))) {
            assertThat(report.isAlive()).isFalse();
            assertThat(columnExists(database, "texts")).isTrue();
            // PostgreSQL keeps at most track_activity_query_size bytes of a query; pgmigrate cuts that further
            String expected = query.substring(0, query.offsetByCodePoints(0, maxQueryLength));
            assertThat(Character.isHighSurrogate(expected.charAt(expected.length() - 1)))
                .as("the test cuts right after an emoji").isFalse();
            assertThat(Character.isLowSurrogate(expected.charAt(expected.length() - 1))).isTrue();

            // the endpoint: the query as the watcher kept it, whole characters, nothing replaced
            List<Map<String, Object>> runs = list(Startup.get(application, "/actuator/pgmigrate").get("runs"));
            List<Map<String, Object>> blockers = list(runs.get(0).get("blockers"));
            assertThat(blockers).singleElement().satisfies((seen) -> {
                assertThat(((Number) seen.get("pid")).intValue()).isEqualTo(report.pid());
                assertThat(seen).containsEntry("action", "terminated");
                assertThat(seen.get("query")).isEqualTo(expected);
            });

            // the log: one WARN line, the query capped and on that line
            List<String> warnings = output.getOut().lines()
                .filter((line) -> line.contains("pgmigrate: Terminated a session blocking")).toList();
            assertThat(warnings).singleElement().satisfies((line) -> {
                assertThat(line).contains("pid=" + report.pid())
                    .contains("query=\"" + expected.replaceAll("[\\s\\u0085\\u2028\\u2029]+", " ").trim() + "\"")
                    .doesNotContain("\u2028", "\u0085", "\uFFFD");
                assertThat(line.length()).isLessThan(2_000);
            });

            // the meters: fixed names and tags, no query text anywhere
            MeterRegistry registry = application.getBean(MeterRegistry.class);
            List<Meter> meters = registry.getMeters().stream()
                .filter((meter) -> meter.getId().getName().startsWith("pgmigrate")).toList();
            assertThat(meters).isNotEmpty();
            for (Meter meter : meters) {
                for (Tag tag : meter.getId().getTags()) {
                    assertThat(tag.getKey()).isIn(Set.of("action", "retried", "reason"));
                    assertThat(tag.getValue()).matches("[a-z]{1,12}");
                }
                assertThat(meter.getId().toString()).doesNotContain("SELECT", "\uD83D\uDE00", "订单");
            }
            assertThat(counter(application, PgMigrateMetrics.BLOCKERS, "action", "terminated")).isEqualTo(1.0);
        }
    }
}
