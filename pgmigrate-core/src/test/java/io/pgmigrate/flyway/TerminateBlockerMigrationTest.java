package io.pgmigrate.flyway;

import static io.pgmigrate.flyway.Guarding.createOrders;
import static io.pgmigrate.flyway.Guarding.eventually;
import static io.pgmigrate.flyway.Guarding.flyway;
import static io.pgmigrate.flyway.Guarding.hasColumn;
import static io.pgmigrate.flyway.Guarding.reader;
import static io.pgmigrate.flyway.Guarding.settings;
import static org.assertj.core.api.Assertions.assertThat;

import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;

import ch.qos.logback.classic.Level;
import ch.qos.logback.classic.spi.ILoggingEvent;
import io.pgmigrate.core.BlockerOutcome;
import io.pgmigrate.core.StandardBlockingAction;
import io.pgmigrate.testsupport.PostgresTest;
import io.pgmigrate.testsupport.TestDatabase;
import io.pgmigrate.testsupport.TestSession;
import org.flywaydb.core.api.callback.Callback;
import org.flywaydb.core.api.callback.Context;
import org.flywaydb.core.api.callback.Event;
import org.flywaydb.core.api.output.MigrateResult;
import org.junit.jupiter.api.Test;

@PostgresTest
class TerminateBlockerMigrationTest {

    @Test
    void terminatesTheIdleBlockerOfAnAlterTableMigrationAndLogsWhoItBlocked(TestDatabase db) throws Exception {
        createOrders(db);
        TestSession blocker = reader(db, "report");
        CountingDataSource dataSource = new CountingDataSource(db.dataSource());
        RecordingGuardListener events = new RecordingGuardListener();

        List<String> userCallback = new CopyOnWriteArrayList<>();
        Callback configured = new Callback() {
            @Override
            public boolean supports(Event event, Context context) {
                return event == Event.BEFORE_EACH_MIGRATE || event == Event.AFTER_EACH_MIGRATE;
            }

            @Override
            public boolean canHandleInTransaction(Event event, Context context) {
                return true;
            }

            @Override
            public void handle(Event event, Context context) {
                userCallback.add(event.name() + " " + context.getMigrationInfo().getVersion());
            }

            @Override
            public String getCallbackName() {
                return "user";
            }
        };

        MigrateResult result;
        List<ILoggingEvent> log;
        try (LogCapture capture = new LogCapture()) {
            result = new FlywayGuard(settings(), StandardBlockingAction.TERMINATE, events)
                .migrate(flyway(dataSource, "blocked").callbacks(configured).load());
            log = capture.events();
        }

        assertThat(result.success).isTrue();
        assertThat(result.migrationsExecuted).isEqualTo(2);
        eventually().until(() -> !blocker.isAlive());
        assertThat(hasColumn(db, "orders", "email")).isTrue();
        assertThat(db.queryValue("SELECT success FROM flyway_schema_history WHERE version = '2'")).isEqualTo(true);

        assertThat(userCallback).as("the callbacks configured before stay").containsExactly(
                "BEFORE_EACH_MIGRATE 1", "AFTER_EACH_MIGRATE 1", "BEFORE_EACH_MIGRATE 2", "AFTER_EACH_MIGRATE 2");
        assertThat(events.started).extracting(RecordingGuardListener.Started::migration)
            .containsExactly("1 (create customers)", "2 (add email)");
        int pid = events.started.get(1).pid();
        assertThat(events.reports(BlockerOutcome.TERMINATED)).singleElement().satisfies((report) -> {
            assertThat(report.blocker().pid()).isEqualTo(blocker.pid());
            assertThat(report.blocker().blockedPid()).isEqualTo(pid);
            assertThat(report.blockedWork()).isEqualTo("migration 2 (add email)");
        });
        assertThat(events.finished).contains(new RecordingGuardListener.Finished("1 (create customers)", true,
                java.time.Duration.ZERO));
        assertThat(events.finished).filteredOn((f) -> f.migration().equals("2 (add email)")).singleElement()
            .satisfies((f) -> {
                assertThat(f.success()).isTrue();
                assertThat(f.lockWait()).isPositive();
            });
        assertThat(events.runs).singleElement().satisfies((run) -> {
            assertThat(run.success()).isTrue();
            assertThat(run.migrationsApplied()).isEqualTo(2);
            assertThat(run.backendPids()).containsExactly(pid);
            assertThat(run.failure()).isNull();
        });

        assertThat(log).filteredOn((e) -> e.getLevel() == Level.INFO
                && e.getFormattedMessage().equals("pgmigrate: migrating as PostgreSQL backend pid " + pid))
            .singleElement()
            .satisfies((e) -> assertThat(LogCapture.keyValues(e)).containsEntry("pid", pid));
        assertThat(log).filteredOn((e) -> e.getLevel() == Level.WARN
                && e.getFormattedMessage().startsWith("pgmigrate: Terminated a session blocking migration 2 (add email):"))
            .singleElement()
            .satisfies((e) -> {
                assertThat(e.getFormattedMessage()).contains("pid=" + blocker.pid(), "application=report");
                assertThat(LogCapture.keyValues(e)).containsEntry("pid", blocker.pid())
                    .containsEntry("blocked_pid", pid);
            });

        // Flyway 12.4 with PostgreSQL's transactional advisory lock: a main connection and a migration
        // connection; plus the watcher's own. All are back before migrate returns.
        System.out.println("pgmigrate measured: connections opened by one guarded run=" + dataSource.opened.get());
        assertThat(dataSource.opened.get()).isEqualTo(3);
        assertThat(dataSource.open.get()).isZero();
        assertThat(Guarding.watcherThreadAlive()).isFalse();
    }
}
