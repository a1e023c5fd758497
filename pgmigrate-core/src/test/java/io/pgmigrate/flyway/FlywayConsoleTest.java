package io.pgmigrate.flyway;

import static io.pgmigrate.flyway.Guarding.createOrders;
import static io.pgmigrate.flyway.Guarding.flyway;
import static io.pgmigrate.flyway.Guarding.reader;
import static io.pgmigrate.flyway.Guarding.settings;
import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assertions.assertTimeoutPreemptively;

import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;

import io.pgmigrate.core.StandardBlockingAction;
import io.pgmigrate.testsupport.PostgresTest;
import io.pgmigrate.testsupport.TestDatabase;
import io.pgmigrate.testsupport.TestSession;
import org.flywaydb.core.Flyway;
import org.flywaydb.core.api.callback.Callback;
import org.flywaydb.core.api.callback.Context;
import org.flywaydb.core.api.callback.Event;
import org.flywaydb.core.api.output.MigrateResult;
import org.junit.jupiter.api.Test;

/**
 * What the log of a guarded run reads, Flyway's lines and pgmigrate's together, in the order they were written.
 * From Flyway 13, Flyway writes {@code Executing Java callback: <event> - <name>} each time it runs a Java callback
 * that is not its own: pgmigrate's must add none, and the WARN line naming the blocker it ended must come before
 * Flyway's {@code Successfully applied}. On Flyway 11 and 12, which write no such line, the same run is checked for
 * the order.
 */
@PostgresTest
class FlywayConsoleTest {

    @Test
    void aRescuedMigrationReadsInOrderWithoutALineForPgmigratesCallback(TestDatabase db) throws Exception {
        createOrders(db);
        TestSession report = reader(db, "report");
        List<String> audited = new CopyOnWriteArrayList<>();
        // a callback of the user's, for two events: Flyway 13's lines for it show that its lines are captured
        Callback audit = new Callback() {
            @Override
            public boolean supports(Event event, Context context) {
                return event == Event.BEFORE_EACH_MIGRATE || event == Event.AFTER_MIGRATE;
            }

            @Override
            public boolean canHandleInTransaction(Event event, Context context) {
                return true;
            }

            @Override
            public void handle(Event event, Context context) {
                audited.add(event.getId());
            }

            @Override
            public String getCallbackName() {
                return "audit";
            }
        };

        MigrateResult result;
        List<String> lines;
        try (LogCapture log = new LogCapture("io.pgmigrate", "org.flywaydb")) {
            result = assertTimeoutPreemptively(Guarding.DEADLINE, () -> new FlywayGuard(settings(),
                    StandardBlockingAction.TERMINATE, new RecordingGuardListener())
                .migrate(flyway(db.dataSource(), "blocked").callbacks(audit).load()));
            lines = log.events().stream().map((event) -> event.getLevel() + " " + event.getFormattedMessage()).toList();
        }
        String console = String.join("\n", lines);

        assertThat(result.migrationsExecuted).as(console).isEqualTo(2);
        assertThat(report.isAlive()).isFalse();
        assertThat(audited).containsExactly("beforeEachMigrate", "beforeEachMigrate", "afterMigrate");
        // Flyway's own lines are captured, or nothing below could be told
        int migrating = index(lines, "INFO Migrating schema \"public\" to version \"2 - add email\"");
        int warning = index(lines, "WARN pgmigrate: Terminated a session blocking migration 2 (add email): "
                + "outcome=terminated pid=" + report.pid() + " ");
        int applied = index(lines, "INFO Successfully applied 2 migrations to schema \"public\"");
        assertThat(migrating).as(console).isNotNegative();
        assertThat(applied).as(console).isNotNegative();
        assertThat(warning).as(console).isGreaterThan(migrating).isLessThan(applied);

        List<String> callbackLines = lines.stream().filter((line) -> line.startsWith("INFO Executing Java callback: "))
            .toList();
        // pgmigrate's callback has an empty name: Flyway 13 would write "Executing Java callback: <event> - "
        assertThat(callbackLines).as(console).noneMatch((line) -> line.endsWith(" - "));
        if (flywayMajorVersion() >= 13) {
            // exactly the user's: one per migration for beforeEachMigrate, one for afterMigrate
            assertThat(callbackLines).as(console).containsExactly(
                    "INFO Executing Java callback: beforeEachMigrate - audit",
                    "INFO Executing Java callback: beforeEachMigrate - audit",
                    "INFO Executing Java callback: afterMigrate - audit");
            // and the user's beforeEachMigrate line comes before the migration's own
            assertThat(lastBefore(lines, "INFO Executing Java callback: beforeEachMigrate - audit", migrating))
                .as(console).isNotNegative();
        }
        else {
            assertThat(callbackLines).as(console).isEmpty();
        }
    }

    /** The index of the first line that starts with the text, -1 when there is none. */
    private static int index(List<String> lines, String start) {
        for (int i = 0; i < lines.size(); i++) {
            if (lines.get(i).startsWith(start)) {
                return i;
            }
        }
        return -1;
    }

    /** The index of the last line before {@code before} that starts with the text, -1 when there is none. */
    private static int lastBefore(List<String> lines, String start, int before) {
        for (int i = before - 1; i >= 0; i--) {
            if (lines.get(i).startsWith(start)) {
                return i;
            }
        }
        return -1;
    }

    /** The Flyway on the class path, as it writes its own version; the test fails when that cannot be read. */
    private static int flywayMajorVersion() throws IOException {
        try (InputStream version = Flyway.class.getClassLoader()
            .getResourceAsStream("org/flywaydb/core/internal/version.txt")) {
            assertThat(version).as("Flyway's version.txt").isNotNull();
            String text = new String(version.readAllBytes(), StandardCharsets.UTF_8).trim();
            System.out.println("pgmigrate measured: console checked with flyway=" + text);
            return Integer.parseInt(text.substring(0, text.indexOf('.')));
        }
    }
}
