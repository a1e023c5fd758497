package io.pgmigrate.reliability;

import static io.pgmigrate.reliability.Reliability.eventually;
import static io.pgmigrate.reliability.Reliability.flyway;
import static io.pgmigrate.reliability.Reliability.oneLine;
import static org.assertj.core.api.Assertions.assertThat;

import java.nio.charset.StandardCharsets;
import java.util.List;

import ch.qos.logback.classic.Level;
import ch.qos.logback.classic.spi.ILoggingEvent;
import io.pgmigrate.core.BlockerOutcome;
import io.pgmigrate.core.BlockerReport;
import io.pgmigrate.core.StandardBlockingAction;
import io.pgmigrate.flyway.FlywayGuard;
import io.pgmigrate.core.GuardSettings;
import io.pgmigrate.flyway.LogCapture;
import io.pgmigrate.flyway.RecordingGuardListener;
import io.pgmigrate.testsupport.PostgresTest;
import io.pgmigrate.testsupport.TestDatabase;
import io.pgmigrate.testsupport.TestSession;
import org.flywaydb.core.api.output.MigrateResult;
import org.junit.jupiter.api.Test;

/**
 * Issue 7: very long and non-ASCII query texts of blockers, in the WARN line and in the report. PostgreSQL
 * keeps at most {@code track_activity_query_size} bytes (1 kB by default) of a query, cut on a character
 * boundary; pgmigrate then keeps at most {@code max-query-length} characters with {@code left()}, which
 * counts characters (code points), so an emoji is never cut in half.
 */
@PostgresTest
class HostileQueryTextTest {

    private static final int MAX_QUERY_LENGTH = 200;

    /** Characters that end a line for some reader of a log: none may be in a log line. */
    private static final String LINE_BREAKS = "\n\r\u000B\f\u0085\u2028\u2029";

    @Test
    void longAndNonAsciiQueriesAreCutToMaxQueryLengthOnOneLogLineAndKeptIntactInTheReport(TestDatabase db)
            throws Exception {
        db.execute("CREATE TABLE orders (id int PRIMARY KEY, total int)",
                "INSERT INTO orders SELECT g, g FROM generate_series(1, 100) g");
        String longQuery = longAsciiQuery(100_000);
        String nonAscii = nonAsciiQuery();
        assertThat(longQuery).hasSize(100_000);
        assertThat(Character.isHighSurrogate(nonAscii.charAt(MAX_QUERY_LENGTH - 1)))
            .as("a cut after %d UTF-16 units would split an emoji", MAX_QUERY_LENGTH).isTrue();
        TestSession longBlocker = db.session("long-query").begin().execute(longQuery);
        TestSession nonAsciiBlocker = db.session("non-ascii-query").begin().execute(nonAscii);
        RecordingGuardListener events = new RecordingGuardListener();
        GuardSettings settings = Reliability.settings();
        settings = settings.withWatch(settings.watch().withMaxQueryLength(MAX_QUERY_LENGTH));

        List<ILoggingEvent> warnings;
        try (LogCapture log = new LogCapture()) {
            MigrateResult result = new FlywayGuard(settings, StandardBlockingAction.TERMINATE, events)
                .migrate(flyway(db.dataSource(), "reliability_hostile", "history_hostile").load());
            assertThat(result.success).isTrue();
            warnings = log.at(Level.WARN, "pgmigrate: Terminated a session blocking migration 1 (add note)");
        }
        eventually().until(() -> !longBlocker.isAlive() && !nonAsciiBlocker.isAlive());

        // 100,000 ASCII characters: the report has the first max-query-length of them, exactly as sent
        String longReported = reportedQuery(events, longBlocker);
        assertThat(longReported).isEqualTo(longQuery.substring(0, MAX_QUERY_LENGTH));
        assertOneLogLine(warnings, longBlocker, longReported);

        // emoji, CJK, Arabic, quotes, tabs and Unicode line separators: cut after max-query-length code points
        String nonAsciiReported = reportedQuery(events, nonAsciiBlocker);
        assertThat(nonAsciiReported.codePointCount(0, nonAsciiReported.length())).isEqualTo(MAX_QUERY_LENGTH);
        assertThat(nonAsciiReported).isEqualTo(nonAscii.substring(0, nonAscii.offsetByCodePoints(0, MAX_QUERY_LENGTH)));
        assertValidPrefix(nonAsciiReported, nonAscii);
        assertThat(nonAsciiReported).contains("中文字符", "العربية", "😀🚀", "\u2028");
        assertOneLogLine(warnings, nonAsciiBlocker, nonAsciiReported);

        assertThat(warnings).hasSize(2);
    }

    @Test
    void postgresqlsOwnCutOfAHundredThousandNonAsciiCharactersKeepsWholeCharacters(TestDatabase db) throws Exception {
        db.execute("CREATE TABLE invoices (id int PRIMARY KEY, total int)",
                "INSERT INTO invoices SELECT g, g FROM generate_series(1, 100) g");
        StringBuilder text = new StringBuilder("SELECT count(*) FROM invoices /* ");
        String unit = "中文 العربية 😀👩\u200D💻\n";
        int unitLength = unit.codePointCount(0, unit.length());
        for (int length = text.length(); length + unitLength <= 100_000 - 3; length += unitLength) {
            text.append(unit);
        }
        String query = text.append(" */").toString();
        assertThat(query.codePointCount(0, query.length())).isBetween(100_000 - unitLength, 100_000);
        TestSession blocker = db.session("huge-non-ascii").begin().execute(query);
        long trackedBytes = ((Number) db.queryValue(
                "SELECT setting::bigint FROM pg_settings WHERE name = 'track_activity_query_size'")).longValue();
        RecordingGuardListener events = new RecordingGuardListener();

        List<ILoggingEvent> warnings;
        try (LogCapture log = new LogCapture()) {
            // the default max-query-length (1000 characters) is more than PostgreSQL keeps of this query
            MigrateResult result = new FlywayGuard(Reliability.settings(), StandardBlockingAction.TERMINATE, events)
                .migrate(flyway(db.dataSource(), "reliability_hostile_bytes", "history_hostile_bytes").load());
            assertThat(result.success).isTrue();
            warnings = log.at(Level.WARN,
                    "pgmigrate: Terminated a session blocking migration 1 (add note to invoices)");
        }
        eventually().until(() -> !blocker.isAlive());

        String reported = reportedQuery(events, blocker);
        System.out.println("pgmigrate measured: a 100,000-character non-ASCII query is reported as "
                + reported.codePointCount(0, reported.length()) + " characters, "
                + reported.getBytes(StandardCharsets.UTF_8).length + " bytes (track_activity_query_size="
                + trackedBytes + ")");
        assertThat(reported.getBytes(StandardCharsets.UTF_8).length).isLessThan((int) trackedBytes);
        assertThat(reported.codePointCount(0, reported.length())).isLessThan(1000);
        assertValidPrefix(reported, query);
        assertOneLogLine(warnings, blocker, reported);
        assertThat(warnings).hasSize(1);
    }

    @Test
    void roleAndTableNamesWithLineBreaksStayOnOneLogLine(TestDatabase db) throws Exception {
        // quoted identifiers may hold any character but NUL; a name must not start a forged line in the log
        String table = "orders\nWARN forged line";
        String role = "pgmigrate role\r\nWARN forged\u2028line";
        String quotedRole = "\"" + role + "\"";
        db.execute("DROP ROLE IF EXISTS " + quotedRole,
                "CREATE TABLE \"" + table + "\" (id int)",
                "CREATE ROLE " + quotedRole + " LOGIN PASSWORD '" + role + "'",
                "GRANT CONNECT ON DATABASE " + db.name() + " TO " + quotedRole,
                "GRANT SELECT ON \"" + table + "\" TO " + quotedRole);
        try {
            TestSession blocker = db.sessionAs(role, "forged-names").begin()
                .execute("SELECT count(*) FROM \"" + table + "\"");
            RecordingGuardListener events = new RecordingGuardListener();

            List<ILoggingEvent> warnings;
            try (LogCapture log = new LogCapture()) {
                MigrateResult result = new FlywayGuard(Reliability.settings(), StandardBlockingAction.TERMINATE, events)
                    .migrate(flyway(db.dataSource(), "reliability_hostile_names", "history_hostile_names").load());
                assertThat(result.success).isTrue();
                warnings = log.at(Level.WARN, "pgmigrate: Terminated a session blocking migration 1 (add note)");
            }
            eventually().until(() -> !blocker.isAlive());

            // the report keeps the names as PostgreSQL has them; the log line has them on one line
            assertThat(events.reports).singleElement().satisfies((report) -> {
                assertThat(report.outcome()).isEqualTo(BlockerOutcome.TERMINATED);
                assertThat(report.blocker().user()).isEqualTo(role);
                assertThat(report.blocker().lockedObject()).contains(table);
            });
            assertThat(warnings).singleElement().satisfies((e) -> {
                String line = e.getFormattedMessage();
                assertThat(line.chars().filter((c) -> LINE_BREAKS.indexOf(c) >= 0).count())
                    .as("line breaks in: %s", line).isZero();
                assertThat(line).contains(" user=\"pgmigrate role WARN forged line\"")
                    .contains("orders WARN forged line");
                assertThat(LogCapture.keyValues(e).get("user")).isEqualTo("pgmigrate role WARN forged line");
                assertThat(String.valueOf(LogCapture.keyValues(e).get("object"))).contains("orders WARN forged line");
            });
        }
        finally {
            db.execute("DROP OWNED BY " + quotedRole, "DROP ROLE " + quotedRole);
        }
    }

    /** SELECT count(*) FROM orders over several lines, then a comment to exactly {@code length} characters. */
    private static String longAsciiQuery(int length) {
        String head = "SELECT count(*)\n\tFROM orders\r\nWHERE id > 0\n/* ";
        String tail = " */";
        StringBuilder query = new StringBuilder(head);
        for (int i = 0; query.length() < length - tail.length(); i++) {
            query.append(i % 10 == 9 ? '\n' : (char) ('a' + i % 26));
        }
        return query.append(tail).toString();
    }

    /**
     * A query whose 200th code point is inside a run of emoji, at an odd UTF-16 offset: a cut counted in
     * UTF-16 units would leave half of an emoji. The hostile characters sit in a string literal, where
     * PostgreSQL takes them as data.
     */
    private static String nonAsciiQuery() {
        StringBuilder prefix = new StringBuilder(
                "SELECT count(*) AS \"naïve \"\"列\"\" عمود\"\nFROM orders\tWHERE 'x' <> '中文字符\u2028العربية\u2029\u0085\t\u000B\f ");
        if (prefix.length() % 2 == 0) {
            prefix.append(' ');
        }
        return prefix.append("😀🚀".repeat(100)).append("'").toString();
    }

    private static String reportedQuery(RecordingGuardListener events, TestSession blocker) {
        List<BlockerReport> reports = events.reports.stream()
            .filter((r) -> r.blocker().pid() == blocker.pid()).toList();
        assertThat(reports).singleElement()
            .satisfies((r) -> assertThat(r.outcome()).isEqualTo(BlockerOutcome.TERMINATED));
        return reports.get(0).blocker().query();
    }

    /** The original's first characters, whole: no lone surrogate at the end, no replacement character. */
    private static void assertValidPrefix(String reported, String original) {
        assertThat(reported).isNotEmpty();
        assertThat(original).startsWith(reported);
        assertThat(Character.isHighSurrogate(reported.charAt(reported.length() - 1))).isFalse();
        assertThat(reported).doesNotContain("\uFFFD");
        assertThat(reported.codePoints().noneMatch((c) -> c >= Character.MIN_SURROGATE && c <= Character.MAX_SURROGATE))
            .as("no lone surrogate").isTrue();
    }

    /** One WARN line for the blocker, without any line break, with the reported query flattened into it. */
    private static void assertOneLogLine(List<ILoggingEvent> warnings, TestSession blocker, String reported) {
        assertThat(warnings).filteredOn((e) -> Integer.valueOf(blocker.pid()).equals(LogCapture.keyValues(e).get("pid")))
            .singleElement()
            .satisfies((e) -> {
                String line = e.getFormattedMessage();
                assertThat(line.chars().filter((c) -> LINE_BREAKS.indexOf(c) >= 0).count())
                    .as("line breaks in: %s", line).isZero();
                Object logged = LogCapture.keyValues(e).get("query");
                assertThat(logged).isInstanceOf(String.class);
                String query = (String) logged;
                assertThat(query.chars().filter((c) -> LINE_BREAKS.indexOf(c) >= 0).count()).isZero();
                assertThat(query).isEqualTo(oneLine(reported));
                assertThat(query.codePointCount(0, query.length()))
                    .isLessThanOrEqualTo(reported.codePointCount(0, reported.length()));
                assertThat(line).contains(" query=\"" + oneLine(reported).replace("\"", "\\\"") + "\"");
                assertThat(Character.isHighSurrogate(query.charAt(query.length() - 1))).isFalse();
            });
    }
}
