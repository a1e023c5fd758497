package io.pgmigrate.core;

import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.Properties;
import java.util.Set;
import java.util.concurrent.CompletableFuture;

import ch.qos.logback.classic.Level;
import io.pgmigrate.core.internal.Watcher;
import io.pgmigrate.flyway.LogCapture;
import io.pgmigrate.testsupport.PostgresTest;
import io.pgmigrate.testsupport.TestDatabase;
import io.pgmigrate.testsupport.TestSession;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import static io.pgmigrate.core.Watching.awaitPolls;
import static io.pgmigrate.core.Watching.createOrders;
import static io.pgmigrate.core.Watching.eventually;
import static io.pgmigrate.core.Watching.finish;
import static io.pgmigrate.core.Watching.reader;
import static io.pgmigrate.core.Watching.startBlocked;
import static io.pgmigrate.core.Watching.watcher;
import static org.assertj.core.api.Assertions.assertThat;

/**
 * Sessions the default action must not end although PostgreSQL reports them as blocking a migration: those that
 * hold up no application query (snapshot waits), PostgreSQL's own processes, backups, and sessions that only
 * claim to be pgmigrate's by their name. Each test fails on a watcher that terminates every blocker it is shown.
 */
@PostgresTest
class WhoIsNeverEndedTest {

    @BeforeEach
    void tables(TestDatabase db) throws SQLException {
        createOrders(db);
        db.execute("DROP TABLE IF EXISTS audit", "CREATE TABLE audit (id int)",
                "DROP INDEX IF EXISTS orders_total_idx");
    }

    /**
     * CREATE INDEX CONCURRENTLY waits for every older transaction of the database, also for those that never
     * touched the table: a repeatable-read report on another table and a long statement. No application query
     * queues behind that wait, so they are reported once and left alone.
     */
    @Test
    void transactionsAConcurrentIndexBuildWaitsForAreReportedOnceAndLeftAlone(TestDatabase db) throws Exception {
        TestSession report = db.session("report").begin()
            .execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ", "SELECT count(*) FROM audit");
        TestSession sleeper = db.session("sleeper");
        CompletableFuture<Void> sleep = sleeper.executeAsync("SELECT pg_sleep(120)");
        eventually().until(() -> "active".equals(db.queryValue("SELECT state FROM pg_stat_activity WHERE pid = ?",
                sleeper.pid())));
        TestSession migration = db.session("migration");
        CompletableFuture<Void> index = startBlocked(migration, "CREATE INDEX CONCURRENTLY orders_total_idx "
                + "ON orders (total)");

        RecordingListener events = new RecordingListener();
        try (LogCapture log = new LogCapture();
                Watcher watcher = watcher(db, WatchSettings.defaults(), StandardBlockingAction.TERMINATE, events)) {
            watcher.watch(migration.pid(), "migration 3 (index orders)");
            eventually().until(() -> events.has(report.pid(), BlockerOutcome.SNAPSHOT_WAIT)
                    || events.has(sleeper.pid(), BlockerOutcome.SNAPSHOT_WAIT));
            // the index build waits for one transaction at a time: end the first it reports, then it waits for the other
            TestSession first = events.has(report.pid(), BlockerOutcome.SNAPSHOT_WAIT) ? report : sleeper;
            awaitPolls(watcher, 3);
            assertThat(report.isAlive()).isTrue();
            assertThat(sleeper.isAlive()).isTrue();
            assertThat(index).isNotDone();
            assertThat(events.reportsFor(first.pid())).singleElement().satisfies((r) -> {
                assertThat(r.blocker().isSnapshotWait()).isTrue();
                assertThat(r.blocker().lockedObject()).isEqualTo("virtualxid");
                assertThat(r.detail()).contains("waits only for this transaction to end",
                        "act-on-snapshot-waits=true");
            });
            assertThat(log.at(Level.INFO, "pgmigrate: migration 3 (index orders) waits for an older transaction"))
                .singleElement()
                .satisfies((line) -> assertThat(line.getFormattedMessage())
                    .contains("outcome=snapshot_wait", "pid=" + first.pid(), "backend_type=\"client backend\"",
                            "object=virtualxid"));

            report.rollback();
            db.execute("SELECT pg_cancel_backend(" + sleeper.pid() + ")");
            eventually().until(sleep::isDone);
            finish(index);
        }
        assertThat(events.reports(BlockerOutcome.TERMINATED)).isEmpty();
        assertThat(db.queryValue("SELECT indisvalid FROM pg_index WHERE indexrelid = 'orders_total_idx'::regclass"))
            .isEqualTo(true);
    }

    @Test
    void transactionsAConcurrentIndexBuildWaitsForAreEndedWhenTheUserAsksForIt(TestDatabase db) throws Exception {
        TestSession report = db.session("report").begin()
            .execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ", "SELECT count(*) FROM audit");
        TestSession migration = db.session("migration");
        CompletableFuture<Void> index = startBlocked(migration, "CREATE INDEX CONCURRENTLY orders_total_idx "
                + "ON orders (total)");

        RecordingListener events = new RecordingListener();
        try (Watcher watcher = watcher(db, WatchSettings.defaults().withActOnSnapshotWaits(true),
                StandardBlockingAction.TERMINATE, events)) {
            watcher.watch(migration.pid(), "migration 3 (index orders)");
            finish(index);
        }
        assertThat(report.isAlive()).isFalse();
        assertThat(events.reportsFor(report.pid())).extracting(BlockerReport::outcome)
            .containsExactly(BlockerOutcome.TERMINATED);
    }

    /**
     * A walsender serves replication and pg_basebackup; on a {@code replication=database} connection it also
     * runs SQL, so it can hold a lock on the migrated table, as a logical replication table copy does.
     */
    @Test
    void aWalsenderHoldingALockOnTheTableIsNeverSignalled(TestDatabase db) throws Exception {
        try (Connection walsender = replicationConnection(db, db.user(), db.password())) {
            walsender.setAutoCommit(false);
            int pid = holdAccessShareOnOrders(walsender);
            assertThat(db.queryValue("SELECT backend_type FROM pg_stat_activity WHERE pid = ?", pid))
                .isEqualTo("walsender");
            TestSession migration = db.session("migration");
            CompletableFuture<Void> alter = startBlocked(migration, "ALTER TABLE orders ADD COLUMN note text");

            RecordingListener events = new RecordingListener();
            try (Watcher watcher = watcher(db, WatchSettings.defaults().withMaxApplicationStall(java.time.Duration.ZERO),
                    StandardBlockingAction.TERMINATE, events)) {
                watcher.watch(migration.pid(), "migration 2 (add note)");
                eventually().until(() -> events.has(pid, BlockerOutcome.SYSTEM_PROCESS));
                awaitPolls(watcher, 3);
                assertThat(db.isAlive(pid)).isTrue();
                assertThat(alter).isNotDone();
                assertThat(events.reportsFor(pid)).singleElement().satisfies((r) -> {
                    assertThat(r.blocker().backendType()).isEqualTo("walsender");
                    assertThat(r.detail()).contains("a walsender");
                });
                walsender.rollback();
                finish(alter);
            }
        }
    }

    /**
     * A watcher role without pg_read_all_stats does not see another role's backend_type; what every role may
     * see still tells a walsender from a client session, so a role that may signal it (pg_signal_backend)
     * still leaves it alone.
     */
    @Test
    void aWalsenderIsToldFromAClientSessionAlsoWhenItsBackendTypeIsHidden(TestDatabase db) throws Exception {
        String replicator = db.createRole("replicator", "REPLICATION");
        String migrator = db.createRole("migrator");
        db.execute("GRANT SELECT ON orders TO " + replicator, "ALTER TABLE orders OWNER TO " + migrator,
                "GRANT pg_signal_backend TO " + migrator);
        try (Connection walsender = replicationConnection(db, replicator, replicator)) {
            walsender.setAutoCommit(false);
            int pid = holdAccessShareOnOrders(walsender);
            TestSession migration = db.sessionAs(migrator, "migration");
            CompletableFuture<Void> alter = startBlocked(migration, "ALTER TABLE orders ADD COLUMN note text");

            RecordingListener events = new RecordingListener();
            try (Watcher watcher = new Watcher(db.dataSource(migrator, migrator),
                    WatchSettings.defaults().withMaxApplicationStall(java.time.Duration.ZERO)
                        .withPollInterval(java.time.Duration.ofMillis(50)),
                    StandardBlockingAction.TERMINATE, events).start()) {
                watcher.watch(migration.pid(), "migration 2 (add note)");
                eventually().until(() -> events.has(pid, BlockerOutcome.SYSTEM_PROCESS));
                awaitPolls(watcher, 3);
                assertThat(db.isAlive(pid)).isTrue();
                assertThat(events.reportsFor(pid)).singleElement()
                    .satisfies((r) -> assertThat(r.blocker().backendType()).isEqualTo("walsender"));
                walsender.rollback();
                finish(alter);
            }
        }
    }

    /**
     * Any role may call itself {@code pgmigrate-migration}. A session of another role than the migration's that
     * does so is an ordinary blocker: terminated. (One of the migration's own role is another instance
     * migrating, and stays protected: {@link SafetyTest}.)
     */
    @Test
    void aSessionOfAnotherRoleNamedLikePgmigrateIsNotProtected(TestDatabase db) throws Exception {
        String intruder = db.createRole("intruder");
        db.execute("GRANT SELECT ON orders TO " + intruder);
        TestSession forged = db.sessionAs(intruder, "pgmigrate-migration").begin()
            .execute("SELECT count(*) FROM orders");
        TestSession migration = db.session("migration");
        CompletableFuture<Void> alter = startBlocked(migration, "ALTER TABLE orders ADD COLUMN note text");

        RecordingListener events = new RecordingListener();
        try (Watcher watcher = watcher(db, WatchSettings.defaults(), StandardBlockingAction.TERMINATE, events)) {
            watcher.watch(migration.pid(), "migration 2 (add note)");
            finish(alter);
        }
        assertThat(forged.isAlive()).isFalse();
        assertThat(events.reportsFor(forged.pid())).extracting(BlockerReport::outcome)
            .containsExactly(BlockerOutcome.TERMINATED);
    }

    /**
     * pg_dump connects as {@code application_name=pg_dump}; backups are excluded by default. (A real pg_dump:
     * {@code io.pgmigrate.reliability.BackupTest}.)
     */
    @Test
    void backupsAreExcludedByDefault(TestDatabase db) throws Exception {
        TestSession dump = reader(db, "pg_dump");
        TestSession report = reader(db, "report");
        TestSession migration = db.session("migration");
        CompletableFuture<Void> alter = startBlocked(migration, "ALTER TABLE orders ADD COLUMN note text");

        RecordingListener events = new RecordingListener();
        try (Watcher watcher = watcher(db, WatchSettings.defaults().withMaxApplicationStall(java.time.Duration.ZERO),
                StandardBlockingAction.TERMINATE, events)) {
            watcher.watch(migration.pid(), "migration 2 (add note)");
            eventually().until(() -> events.has(report.pid(), BlockerOutcome.TERMINATED)
                    && events.has(dump.pid(), BlockerOutcome.EXCLUDED));
            assertThat(dump.isAlive()).isTrue();
            dump.rollback();
            finish(alter);
        }
    }

    /**
     * Roles are written in the configuration as in SQL: {@code Reporting} is the role {@code reporting},
     * {@code "Mixed Case"} keeps its case. A role that does not exist gets one WARN line.
     */
    @Test
    void excludedRolesAreComparedAsPostgresqlComparesThemAndAMissingOneIsReported(TestDatabase db)
            throws Exception {
        String reporting = db.createRole("reporting");
        String mixed = db.name() + "_Mixed Case";
        db.execute("CREATE ROLE \"" + mixed + "\" LOGIN PASSWORD 'mixed'", "GRANT SELECT ON orders TO " + reporting,
                "GRANT SELECT ON orders TO \"" + mixed + "\"", "GRANT ALL ON DATABASE " + db.name() + " TO \""
                        + mixed + "\"");
        try {
            TestSession analyst = db.sessionAs(reporting, "psql").begin().execute("SELECT count(*) FROM orders");
            Connection mixedSession = db.server().connect(db.name(), mixed, "mixed", "dashboard");
            try {
                mixedSession.setAutoCommit(false);
                int mixedPid = holdAccessShareOnOrders(mixedSession);
                TestSession migration = db.session("migration");
                CompletableFuture<Void> alter = startBlocked(migration, "ALTER TABLE orders ADD COLUMN note text");

                RecordingListener events = new RecordingListener();
                WatchSettings settings = WatchSettings.defaults()
                    .withMaxApplicationStall(java.time.Duration.ZERO)
                    .withExcludedUsers(Set.of(reporting.toUpperCase(java.util.Locale.ROOT),
                            "\"" + mixed + "\"", "No_Such_Role"));
                try (LogCapture log = new LogCapture();
                        Watcher watcher = watcher(db, settings, StandardBlockingAction.TERMINATE, events)) {
                    watcher.watch(migration.pid(), "migration 2 (add note)");
                    eventually().until(() -> events.has(analyst.pid(), BlockerOutcome.EXCLUDED)
                            && events.has(mixedPid, BlockerOutcome.EXCLUDED));
                    assertThat(analyst.isAlive()).isTrue();
                    assertThat(db.isAlive(mixedPid)).isTrue();
                    assertThat(log.at(Level.WARN, "pgmigrate: an excluded role does not exist"))
                        .singleElement()
                        .satisfies((line) -> assertThat(line.getFormattedMessage()).endsWith("role=no_such_role"));
                    analyst.rollback();
                    mixedSession.rollback();
                    finish(alter);
                }
            }
            finally {
                mixedSession.close();
            }
        }
        finally {
            db.execute("REVOKE ALL ON DATABASE " + db.name() + " FROM \"" + mixed + "\"",
                    "REVOKE SELECT ON orders FROM \"" + mixed + "\"", "DROP ROLE \"" + mixed + "\"");
        }
    }

    /**
     * A value with a backslash could end its quotes early in the text line: {@code x\" outcome=shown} must stay
     * one value of {@code application}, not forge an {@code outcome} pair.
     */
    @Test
    void anApplicationNameCannotForgeKeyValuesInTheLogLine(TestDatabase db) throws Exception {
        String forged = "x\\\" outcome=shown";
        TestSession report = reader(db, forged);
        TestSession migration = db.session("migration");
        CompletableFuture<Void> alter = startBlocked(migration, "ALTER TABLE orders ADD COLUMN note text");

        try (LogCapture log = new LogCapture();
                Watcher watcher = watcher(db, WatchSettings.defaults(), StandardBlockingAction.TERMINATE,
                        new RecordingListener())) {
            watcher.watch(migration.pid(), "migration 2 (add note)");
            finish(alter);
            eventually().until(() -> !log.at(Level.WARN, "pgmigrate: Terminated a session").isEmpty());
            String line = log.at(Level.WARN, "pgmigrate: Terminated a session").get(0).getFormattedMessage();
            assertThat(line).contains(" application=\"x\\\\\\\" outcome=shown\" ");
            assertThat(keyValues(line)).containsEntry("outcome", "terminated")
                .containsEntry("application", forged)
                .containsEntry("pid", String.valueOf(report.pid()));
        }
    }

    /** The pairs of a log line as a parser that honours quotes and backslash escapes reads them; last one wins. */
    private static java.util.Map<String, String> keyValues(String line) {
        java.util.Map<String, String> pairs = new java.util.LinkedHashMap<>();
        int colon = line.indexOf(": ", line.indexOf("pgmigrate: ") + "pgmigrate: ".length());
        int i = colon + 2;
        while (i < line.length()) {
            int equals = line.indexOf('=', i);
            if (equals < 0) {
                break;
            }
            String key = line.substring(i, equals).strip();
            StringBuilder value = new StringBuilder();
            int j = equals + 1;
            if (j < line.length() && line.charAt(j) == '"') {
                j++;
                while (j < line.length() && line.charAt(j) != '"') {
                    if (line.charAt(j) == '\\' && j + 1 < line.length()) {
                        j++;
                    }
                    value.append(line.charAt(j++));
                }
                j++;
            }
            else {
                while (j < line.length() && line.charAt(j) != ' ') {
                    value.append(line.charAt(j++));
                }
            }
            pairs.put(key, value.toString());
            i = j + 1;
        }
        return pairs;
    }

    private static Connection replicationConnection(TestDatabase db, String role, String password)
            throws SQLException {
        Properties properties = new Properties();
        properties.setProperty("user", role);
        properties.setProperty("password", password);
        properties.setProperty("replication", "database");
        properties.setProperty("preferQueryMode", "simple");
        properties.setProperty("assumeMinServerVersion", "14");
        properties.setProperty("ApplicationName", "logical-replica");
        return DriverManager.getConnection(db.jdbcUrl(), properties);
    }

    /** Reads the table in the connection's open transaction and returns its backend pid. */
    private static int holdAccessShareOnOrders(Connection connection) throws SQLException {
        try (Statement statement = connection.createStatement()) {
            statement.execute("SELECT count(*) FROM orders");
            try (var rows = statement.executeQuery("SELECT pg_backend_pid()")) {
                rows.next();
                return rows.getInt(1);
            }
        }
    }
}
