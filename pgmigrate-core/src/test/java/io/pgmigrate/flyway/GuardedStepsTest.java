package io.pgmigrate.flyway;

import static io.pgmigrate.flyway.Guarding.createOrders;
import static io.pgmigrate.flyway.Guarding.eventually;
import static io.pgmigrate.flyway.Guarding.flyway;
import static io.pgmigrate.flyway.Guarding.hasColumn;
import static io.pgmigrate.flyway.Guarding.reader;
import static io.pgmigrate.flyway.Guarding.settings;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowableOfType;
import static org.junit.jupiter.api.Assertions.assertTimeoutPreemptively;

import java.sql.Connection;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import java.util.List;

import ch.qos.logback.classic.Level;
import ch.qos.logback.classic.spi.ILoggingEvent;
import io.pgmigrate.core.BlockerOutcome;
import io.pgmigrate.core.StandardBlockingAction;
import io.pgmigrate.testsupport.PostgresTest;
import io.pgmigrate.testsupport.TestDatabase;
import io.pgmigrate.testsupport.TestSession;
import org.flywaydb.core.api.callback.Callback;
import org.flywaydb.core.api.callback.Event;
import org.flywaydb.core.api.migration.BaseJavaMigration;
import org.flywaydb.core.api.migration.Context;
import org.flywaydb.core.api.output.MigrateResult;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * Every step Flyway runs under the guard is watched and named in what pgmigrate reports: SQL callbacks, Java
 * migrations, repeatable migrations; and a step that waits for another connection of its own run is told apart
 * from Flyway's transactional-lock hang, and not retried.
 */
@PostgresTest
class GuardedStepsTest {

    /** The lock timeout of the tests whose blocker is ended: without the guard they fail after it. */
    private static final Duration RESCUE_TIMEOUT = Duration.ofSeconds(10);

    /** The tests share a database: each starts with an empty schema (the last test's sessions are closed). */
    @BeforeEach
    void emptySchema(TestDatabase db) throws SQLException {
        db.execute("DROP SCHEMA public CASCADE", "CREATE SCHEMA public");
    }

    @Test
    void anAfterMigrateCallbackRefreshingAViewThatADashboardReadsIsGuarded(TestDatabase db) throws Exception {
        createOrdersAndTotals(db);
        TestSession dashboard = dashboard(db);
        RecordingGuardListener events = new RecordingGuardListener();
        FlywayGuard guard = new FlywayGuard(settings().withLockTimeout(RESCUE_TIMEOUT), StandardBlockingAction.TERMINATE,
                events);

        MigrateResult result;
        List<ILoggingEvent> warnings;
        try (LogCapture log = new LogCapture()) {
            result = assertTimeoutPreemptively(Guarding.DEADLINE,
                    () -> guard.migrate(flyway(db.dataSource(), "callback_refresh").load()));
            warnings = log.at(Level.WARN, "pgmigrate: Terminated a session blocking ");
        }

        assertThat(result.success).isTrue();
        assertThat(result.migrationsExecuted).isEqualTo(1);
        eventually().until(() -> !dashboard.isAlive());
        // the callback ran to its end: the view has the totals of the orders
        assertThat(db.queryValue("SELECT total FROM order_totals")).isEqualTo(50500L);
        assertThat(warnings).singleElement().satisfies((line) -> {
            assertThat(line.getFormattedMessage()).startsWith("pgmigrate: Terminated a session blocking callback "
                    + "afterMigrate:").contains("pid=" + dashboard.pid(), "application=dashboard");
        });
        assertThat(events.reports(BlockerOutcome.TERMINATED)).singleElement().satisfies((report) -> {
            assertThat(report.blocker().pid()).isEqualTo(dashboard.pid());
            assertThat(report.blockedWork()).isEqualTo("callback afterMigrate");
        });
        assertThat(events.lockTimeouts).isEmpty();
        assertThat(events.runs).singleElement().satisfies((run) -> assertThat(run.success()).isTrue());
        assertThat(Guarding.watcherThreadAlive()).isFalse();
    }

    @Test
    void aCallbackThatHitsTheLockTimeoutFailsAtOnceWithAnExceptionThatNamesIt(TestDatabase db) throws Exception {
        createOrdersAndTotals(db);
        TestSession dashboard = dashboard(db);
        RecordingGuardListener events = new RecordingGuardListener();
        FlywayGuard guard = new FlywayGuard(settings().withLockTimeout(Duration.ofSeconds(1)).withLockRetries(2)
            .withLockRetryDelay(Duration.ofMillis(50)), StandardBlockingAction.SHOW, events);

        CallbackLockTimeoutException failure = assertTimeoutPreemptively(Guarding.DEADLINE,
                () -> catchThrowableOfType(CallbackLockTimeoutException.class,
                        () -> guard.migrate(flyway(db.dataSource(), "callback_refresh").load())));

        assertThat(failure).isNotNull();
        System.out.println("pgmigrate measured: callback lock timeout message:\n" + failure.getMessage());
        assertThat(failure.event()).isEqualTo("afterMigrate");
        assertThat(failure.migrationsApplied()).isEqualTo(1);
        assertThat(failure.lockTimeout()).isEqualTo(Duration.ofSeconds(1));
        assertThat(failure.blockedByOwnConnection()).isFalse();
        assertThat(failure.blockers()).singleElement()
            .satisfies((blocker) -> assertThat(blocker.pid()).isEqualTo(dashboard.pid()));
        assertThat(failure.getMessage()).startsWith("pgmigrate: callback afterMigrate hit the lock timeout and is not "
                + "retried: callback=\"afterMigrate\" lock_timeout=1s migrations_applied=1")
            .contains("The migrations applied before it stay applied", "pid=" + dashboard.pid(),
                    "application=dashboard", "Flyway runs afterMigrate callbacks on every migrate",
                    "The blocking action was show");
        // tried once: a second migrate() would not run the same callbacks again
        assertThat(events.lockTimeouts).singleElement().satisfies((event) -> {
            assertThat(event.migration()).isEqualTo("callback afterMigrate");
            assertThat(event.retried()).isFalse();
        });
        assertThat(events.reports(BlockerOutcome.SHOWN)).singleElement()
            .satisfies((report) -> assertThat(report.blockedWork()).isEqualTo("callback afterMigrate"));
        assertThat(dashboard.isAlive()).isTrue();
        assertThat(db.queryValue("SELECT success FROM flyway_schema_history WHERE version = '1'")).isEqualTo(true);
        assertThat(Guarding.watcherThreadAlive()).isFalse();
    }

    @Test
    void javaCallbacksAreGuardedAndNamedWhateverTheirNames(TestDatabase db) throws Exception {
        createOrdersAndTotals(db);
        TestSession dashboard = dashboard(db);
        TestSession report = reader(db, "report");
        RecordingGuardListener events = new RecordingGuardListener();
        FlywayGuard guard = new FlywayGuard(settings().withLockTimeout(RESCUE_TIMEOUT), StandardBlockingAction.TERMINATE,
                events);
        // a beforeMigrate callback on Flyway's event connection, and a beforeEachMigrate one, inside the
        // migration's transaction, whose name sorts before pgmigrate's former one
        Callback refresh = callback("Refresh", Event.BEFORE_MIGRATE, "REFRESH MATERIALIZED VIEW order_totals");
        Callback audit = callback("Audit", Event.BEFORE_EACH_MIGRATE, "ALTER TABLE orders ADD COLUMN audited text");

        MigrateResult result = assertTimeoutPreemptively(Guarding.DEADLINE, () -> guard.migrate(
                flyway(db.dataSource(), "callback_refresh").callbacks(refresh, audit).load()));

        assertThat(result.migrationsExecuted).isEqualTo(1);
        assertThat(hasColumn(db, "orders", "audited")).isTrue();
        eventually().until(() -> !dashboard.isAlive() && !report.isAlive());
        assertThat(events.reports(BlockerOutcome.TERMINATED))
            .extracting((blocked) -> blocked.blocker().pid() + " " + blocked.blockedWork())
            .containsExactlyInAnyOrder(dashboard.pid() + " callback beforeMigrate",
                    report.pid() + " migration 1 (create notes)");
    }

    @Test
    void aJavaMigrationThatIsBlockedIsRescuedAndNamed(TestDatabase db) throws Exception {
        createOrders(db);
        TestSession report = reader(db, "report");
        RecordingGuardListener events = new RecordingGuardListener();
        FlywayGuard guard = new FlywayGuard(settings().withLockTimeout(RESCUE_TIMEOUT), StandardBlockingAction.TERMINATE,
                events);

        MigrateResult result = assertTimeoutPreemptively(Guarding.DEADLINE,
                () -> guard.migrate(flyway(db.dataSource(), "none").javaMigrations(new V1__Add_note()).load()));

        assertThat(result.migrationsExecuted).isEqualTo(1);
        eventually().until(() -> !report.isAlive());
        assertThat(hasColumn(db, "orders", "note")).isTrue();
        assertThat(events.reports(BlockerOutcome.TERMINATED)).singleElement().satisfies((blocked) -> {
            assertThat(blocked.blocker().pid()).isEqualTo(report.pid());
            assertThat(blocked.blockedWork()).isEqualTo("migration 1 (Add note)");
        });
    }

    @Test
    void aRepeatableMigrationThatIsBlockedIsRescuedAndNamed(TestDatabase db) throws Exception {
        createOrders(db);
        db.execute("CREATE VIEW order_view AS SELECT id, total FROM orders");
        TestSession report = db.session("report").begin().execute("SELECT count(*) FROM order_view");
        RecordingGuardListener events = new RecordingGuardListener();
        FlywayGuard guard = new FlywayGuard(settings().withLockTimeout(RESCUE_TIMEOUT), StandardBlockingAction.TERMINATE,
                events);

        MigrateResult result = assertTimeoutPreemptively(Guarding.DEADLINE,
                () -> guard.migrate(flyway(db.dataSource(), "repeatable_views").load()));

        assertThat(result.migrationsExecuted).isEqualTo(1);
        eventually().until(() -> !report.isAlive());
        assertThat(hasColumn(db, "order_view", "doubled")).isTrue();
        assertThat(events.reports(BlockerOutcome.TERMINATED)).singleElement().satisfies((blocked) -> {
            assertThat(blocked.blocker().pid()).isEqualTo(report.pid());
            assertThat(blocked.blockedWork()).isEqualTo("migration repeatable (views)");
        });
    }

    @Test
    void aJavaMigrationThatWaitsForASecondConnectionOfItsOwnIsTriedOnceAndToldSo(TestDatabase db) throws Exception {
        createOrders(db);
        RecordingGuardListener events = new RecordingGuardListener();
        FlywayGuard guard = new FlywayGuard(settings().withLockTimeout(Duration.ofSeconds(1)).withLockRetries(3)
            .withLockRetryDelay(Duration.ofMillis(50)), StandardBlockingAction.TERMINATE, events);

        LockTimeoutExhaustedException failure;
        List<ILoggingEvent> errors;
        try (LogCapture log = new LogCapture()) {
            failure = assertTimeoutPreemptively(Guarding.DEADLINE,
                    () -> catchThrowableOfType(LockTimeoutExhaustedException.class, () -> guard.migrate(
                            flyway(db.dataSource(), "none").javaMigrations(new V1__Second_connection()).load())));
            errors = log.at(Level.ERROR, "pgmigrate: ");
        }

        assertThat(failure).isNotNull();
        System.out.println("pgmigrate measured: own-connection deadlock message:\n" + failure.getMessage());
        assertThat(failure.attempts()).isEqualTo(1);
        assertThat(failure.blockedByOwnConnection()).isTrue();
        assertThat(failure.blockingAction()).isEqualTo("terminate");
        assertThat(failure.getMessage())
            .startsWith("pgmigrate: migration 1 (Second connection) waited for another connection of its own run until "
                    + "it hit the lock timeout, and is not retried")
            .contains(SelfBlock.OWN_CONNECTION_CAUSE, "Context.getConnection()", "attempts=1")
            .doesNotContain("transactional-lock", "transactional.lock", "CREATE INDEX CONCURRENTLY",
                    "blocking-action=terminate");
        assertThat(events.lockTimeouts).singleElement().satisfies((event) -> assertThat(event.retried()).isFalse());
        assertThat(events.started).hasSize(1);
        // not Flyway's transactional-lock hang: that explanation and its event stay out
        assertThat(events.selfBlocked).isEmpty();
        assertThat(errors).singleElement().satisfies((line) -> {
            assertThat(line.getFormattedMessage()).startsWith("pgmigrate: Migration 1 (Second connection) waits for "
                    + "another connection of its own run and cannot finish.")
                .contains("It fails when the lock timeout of 1s runs out")
                .doesNotContain("transactional");
            assertThat(LogCapture.keyValues(line)).containsEntry("step", "migration 1 (Second connection)");
        });
        assertThat(events.reports).isNotEmpty()
            .allSatisfy((r) -> assertThat(r.outcome()).isEqualTo(BlockerOutcome.PROTECTED));
        assertThat(hasColumn(db, "orders", "note")).isFalse();
        assertThat(Guarding.watcherThreadAlive()).isFalse();
    }

    private static void createOrdersAndTotals(TestDatabase db) throws SQLException {
        createOrders(db);
        db.execute("CREATE MATERIALIZED VIEW order_totals AS SELECT sum(total) AS total FROM orders");
    }

    /** A dashboard that reads the materialized view in an open transaction: it holds ACCESS SHARE on it. */
    private static TestSession dashboard(TestDatabase db) throws SQLException {
        return db.session("dashboard").begin().execute("SELECT total FROM order_totals");
    }

    /** A Java callback of one event that runs one statement on the connection Flyway gives it. */
    private static Callback callback(String name, Event event, String sql) {
        return new Callback() {
            @Override
            public boolean supports(Event candidate, org.flywaydb.core.api.callback.Context context) {
                return candidate == event;
            }

            @Override
            public boolean canHandleInTransaction(Event candidate, org.flywaydb.core.api.callback.Context context) {
                return true;
            }

            @Override
            public void handle(Event candidate, org.flywaydb.core.api.callback.Context context) {
                try (Statement statement = context.getConnection().createStatement()) {
                    statement.execute(sql);
                }
                catch (SQLException ex) {
                    throw new IllegalStateException(ex);
                }
            }

            @Override
            public String getCallbackName() {
                return name;
            }
        };
    }

    /** A Java migration that alters orders on the connection Flyway gives it. */
    static final class V1__Add_note extends BaseJavaMigration {

        @Override
        public void migrate(Context context) throws Exception {
            try (Statement statement = context.getConnection().createStatement()) {
                statement.execute("ALTER TABLE orders ADD COLUMN note text");
            }
        }
    }

    /**
     * A Java migration that reads orders on a second connection of Flyway's DataSource, leaves that transaction
     * open, then alters orders on its own connection: the ALTER waits for the second connection, which waits for
     * the migration to end.
     */
    static final class V1__Second_connection extends BaseJavaMigration {

        @Override
        public void migrate(Context context) throws Exception {
            try (Connection second = context.getConfiguration().getDataSource().getConnection()) {
                second.setAutoCommit(false);
                try (Statement statement = second.createStatement()) {
                    statement.execute("SELECT count(*) FROM orders");
                }
                try (Statement statement = context.getConnection().createStatement()) {
                    statement.execute("ALTER TABLE orders ADD COLUMN note text");
                }
            }
        }
    }
}
