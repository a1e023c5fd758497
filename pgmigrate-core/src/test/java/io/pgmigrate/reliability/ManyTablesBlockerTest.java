package io.pgmigrate.reliability;

import static io.pgmigrate.reliability.Reliability.eventually;
import static io.pgmigrate.reliability.Reliability.flyway;
import static io.pgmigrate.reliability.Reliability.hasColumn;
import static io.pgmigrate.reliability.Reliability.settings;
import static org.assertj.core.api.Assertions.assertThat;

import java.util.List;
import java.util.Set;

import ch.qos.logback.classic.Level;
import ch.qos.logback.classic.spi.ILoggingEvent;
import io.pgmigrate.core.BlockerOutcome;
import io.pgmigrate.core.StandardBlockingAction;
import io.pgmigrate.flyway.FlywayGuard;
import io.pgmigrate.flyway.LogCapture;
import io.pgmigrate.flyway.RecordingGuardListener;
import io.pgmigrate.testsupport.PostgresTest;
import io.pgmigrate.testsupport.TestDatabase;
import io.pgmigrate.testsupport.TestSession;
import org.flywaydb.core.api.output.MigrateResult;
import org.junit.jupiter.api.Test;

/** Issue 7: a blocker holding locks on many tables; a blocker in another schema with the same table name. */
@PostgresTest
class ManyTablesBlockerTest {

    private static final int TABLES = 20;

    private static final Set<String> ALTERED = Set.of("t03", "t11", "t19");

    @Test
    void aBlockerHoldingTwentyTablesIsTerminatedOnceForAMigrationAlteringThreeOfThem(TestDatabase db) throws Exception {
        for (int i = 1; i <= TABLES; i++) {
            db.execute("CREATE TABLE %s (id int PRIMARY KEY, total int)".formatted(table(i)),
                    "INSERT INTO %s SELECT g, g FROM generate_series(1, 10) g".formatted(table(i)));
        }
        TestSession blocker = db.session("many-tables-report").begin();
        for (int i = 1; i <= TABLES; i++) {
            blocker.execute("SELECT count(*) FROM " + table(i));
        }
        assertThat(db.queryValue("SELECT count(*) FROM pg_locks l JOIN pg_class c ON c.oid = l.relation "
                + "WHERE l.pid = ? AND l.granted AND l.mode = 'AccessShareLock' AND c.relname ~ '^t[0-9]{2}$' "
                + "AND l.database = (SELECT oid FROM pg_database WHERE datname = current_database())", blocker.pid()))
            .as("the blocker holds a lock on each of the %d tables", TABLES)
            .isEqualTo((long) TABLES);
        RecordingGuardListener events = new RecordingGuardListener();

        MigrateResult result;
        List<ILoggingEvent> log;
        try (LogCapture capture = new LogCapture()) {
            result = new FlywayGuard(settings(), StandardBlockingAction.TERMINATE, events)
                .migrate(flyway(db.dataSource(), "reliability_many_tables", "history_many_tables").load());
            log = capture.events();
        }

        assertThat(result.success).isTrue();
        assertThat(result.migrationsExecuted).isEqualTo(1);
        assertThat(events.lockTimeouts).isEmpty();
        eventually().until(() -> !blocker.isAlive());
        // three ALTERs wait on the same session: it is terminated once, at the first, and reported once
        assertThat(events.reports).singleElement().satisfies((report) -> {
            assertThat(report.outcome()).isEqualTo(BlockerOutcome.TERMINATED);
            assertThat(report.blocker().pid()).isEqualTo(blocker.pid());
            assertThat(report.blocker().lockedObject()).isEqualTo("public.t03");
            assertThat(report.blockedWork()).isEqualTo("migration 1 (alter three tables)");
        });
        assertThat(log).filteredOn((e) -> e.getLevel() == Level.WARN
                && e.getFormattedMessage().startsWith("pgmigrate: Terminated a session blocking"))
            .singleElement()
            .satisfies((e) -> assertThat(e.getFormattedMessage()).contains("pid=" + blocker.pid(),
                    "application=many-tables-report", "object=public.t03"));
        for (int i = 1; i <= TABLES; i++) {
            assertThat(hasColumn(db, "public", table(i), "note")).as(table(i)).isEqualTo(ALTERED.contains(table(i)));
        }
        assertThat(db.queryValue("SELECT success FROM history_many_tables WHERE version = '1'")).isEqualTo(true);
        assertThat(Reliability.pgmigrateThreadAlive()).isFalse();
    }

    @Test
    void aSessionLockingTheSameNamedTableOfAnotherSchemaIsNeverTouched(TestDatabase db) throws Exception {
        db.execute("CREATE SCHEMA other_schema",
                "CREATE TABLE public.orders (id int PRIMARY KEY, total int)",
                "CREATE TABLE other_schema.orders (id int PRIMARY KEY, total int)",
                "INSERT INTO public.orders SELECT g, g FROM generate_series(1, 10) g",
                "INSERT INTO other_schema.orders SELECT g, g FROM generate_series(1, 10) g");
        // the strongest lock there is, on the other schema's orders: it conflicts with everything on that table
        TestSession other = db.session("other-schema-app").begin()
            .execute("LOCK TABLE other_schema.orders IN ACCESS EXCLUSIVE MODE");
        TestSession blocker = db.session("public-report").begin().execute("SELECT count(*) FROM public.orders");
        RecordingGuardListener events = new RecordingGuardListener();

        MigrateResult result;
        List<ILoggingEvent> log;
        try (LogCapture capture = new LogCapture()) {
            result = new FlywayGuard(settings(), StandardBlockingAction.TERMINATE, events)
                .migrate(flyway(db.dataSource(), "reliability_schema", "history_schema").load());
            log = capture.events();
        }

        assertThat(result.success).isTrue();
        assertThat(hasColumn(db, "public", "orders", "email")).isTrue();
        assertThat(hasColumn(db, "other_schema", "orders", "email")).isFalse();
        eventually().until(() -> !blocker.isAlive());
        assertThat(events.reports).singleElement().satisfies((report) -> {
            assertThat(report.outcome()).isEqualTo(BlockerOutcome.TERMINATED);
            assertThat(report.blocker().pid()).isEqualTo(blocker.pid());
            assertThat(report.blocker().lockedObject()).isEqualTo("public.orders");
        });

        // the other schema's session: never seen as a blocker, never reported or logged, alive and still locking
        assertThat(events.pidsSeen()).doesNotContain(other.pid());
        assertThat(log).noneMatch((e) -> e.getFormattedMessage().contains("pid=" + other.pid()));
        assertThat(other.isAlive()).isTrue();
        assertThat(db.queryValue("SELECT count(*) FROM pg_locks l WHERE l.pid = ? AND l.granted "
                + "AND l.mode = 'AccessExclusiveLock' AND l.relation = 'other_schema.orders'::regclass", other.pid()))
            .isEqualTo(1L);
        other.execute("INSERT INTO other_schema.orders VALUES (11, 11)");
        other.commit();
        assertThat(db.queryValue("SELECT count(*) FROM other_schema.orders")).isEqualTo(11L);
        assertThat(Reliability.pgmigrateThreadAlive()).isFalse();
    }

    private static String table(int i) {
        return "t%02d".formatted(i);
    }
}
