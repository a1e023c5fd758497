package io.pgmigrate.core;

import java.sql.SQLException;
import java.time.Duration;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;

import javax.sql.DataSource;

import io.pgmigrate.core.internal.Watcher;
import io.pgmigrate.flyway.LogCapture;
import io.pgmigrate.testsupport.PostgresTest;
import io.pgmigrate.testsupport.TestDatabase;
import io.pgmigrate.testsupport.TestSession;
import org.junit.jupiter.api.Test;

import static io.pgmigrate.core.Watching.awaitPolls;
import static io.pgmigrate.core.Watching.createOrders;
import static io.pgmigrate.core.Watching.eventually;
import static io.pgmigrate.core.Watching.finish;
import static io.pgmigrate.core.Watching.reader;
import static io.pgmigrate.core.Watching.startBlocked;
import static io.pgmigrate.core.Watching.watcher;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

@PostgresTest
class WatcherLifecycleTest {

    @Test
    void closeEndsTheThreadAndReturnsTheConnection(TestDatabase db) throws Exception {
        createOrders(db);
        TestSession migration = db.session("migration");
        Watcher watcher = watcher(db, WatchSettings.defaults(), StandardBlockingAction.TERMINATE,
                new RecordingListener());
        watcher.watch(migration.pid(), "migration 2");
        awaitPolls(watcher, 2);
        assertThat(db.pidsOf(Watcher.APPLICATION_NAME)).hasSize(1);
        assertThat(watcherThreads()).isNotEmpty();

        watcher.close();

        assertThat(watcherThreads()).isEmpty();
        eventually().until(() -> db.pidsOf(Watcher.APPLICATION_NAME).isEmpty());
    }

    @Test
    void theWatcherReconnectsWhenItsOwnConnectionIsTerminated(TestDatabase db) throws Exception {
        createOrders(db);
        TestSession migration = db.session("migration");
        RecordingListener events = new RecordingListener();
        try (Watcher watcher = watcher(db, WatchSettings.defaults(), StandardBlockingAction.TERMINATE, events)) {
            watcher.watch(migration.pid(), "migration 2");
            awaitPolls(watcher, 2);
            int firstConnection = db.pidsOf(Watcher.APPLICATION_NAME).get(0);
            db.execute("SELECT pg_terminate_backend(" + firstConnection + ")");
            eventually().until(() -> !events.failures.isEmpty());

            TestSession report = reader(db, "report");
            CompletableFuture<Void> alter = startBlocked(migration, "ALTER TABLE orders ADD COLUMN note text");
            finish(alter);

            // the migration gets its lock while the terminated backend exits, a moment before it is gone
            eventually().until(() -> !report.isAlive());
            assertThat(events.has(report.pid(), BlockerOutcome.TERMINATED)).isTrue();
            assertThat(db.pidsOf(Watcher.APPLICATION_NAME)).singleElement().isNotEqualTo(firstConnection);
            assertThat(events.failures).hasSize(1);
        }
    }

    @Test
    void startOpensTheConnectionBeforeAnythingIsWatchedAndAWatcherWithNothingToWatchDoesNotPoll(TestDatabase db)
            throws Exception {
        try (Watcher watcher = watcher(db, WatchSettings.defaults(), StandardBlockingAction.TERMINATE,
                new RecordingListener())) {
            assertThat(watcherThreads()).isNotEmpty();
            assertThat(db.pidsOf(Watcher.APPLICATION_NAME)).hasSize(1);
            assertThat(db.queryValue("SELECT state FROM pg_stat_activity WHERE application_name = ?",
                    Watcher.APPLICATION_NAME)).isEqualTo("idle");
            assertThat(watcher.polls()).isZero();
        }
        eventually().until(() -> db.pidsOf(Watcher.APPLICATION_NAME).isEmpty());
    }

    @Test
    void aWatcherThatCannotConnectFailsToStartAndStartsNoThread(TestDatabase db) {
        DataSource unreachable = db.dataSource("no_such_role_" + db.name(), "wrong");
        Watcher watcher = new Watcher(unreachable, WatchSettings.defaults(), StandardBlockingAction.TERMINATE,
                new RecordingListener());

        assertThatThrownBy(watcher::start).isInstanceOf(WatcherConnectionException.class)
            .hasMessageStartingWith("pgmigrate: the watcher could not get its connection from DataSource "
                    + "org.postgresql.ds.PGSimpleDataSource: ")
            .hasMessageContaining("no_such_role_")
            .hasCauseInstanceOf(SQLException.class);
        assertThat(watcherThreads()).isEmpty();
        watcher.close();
    }

    @Test
    void aFailingListenerDoesNotStopTheWatcher(TestDatabase db) throws Exception {
        createOrders(db);
        TestSession report = reader(db, "report");
        TestSession migration = db.session("migration");
        CompletableFuture<Void> alter = startBlocked(migration, "ALTER TABLE orders ADD COLUMN note text");
        GuardListener failing = new GuardListener() {
            @Override
            public void blockersDetected(List<Blocker> blockers) {
                throw new IllegalStateException("listener bug");
            }
        };
        try (Watcher watcher = watcher(db, WatchSettings.defaults(), StandardBlockingAction.TERMINATE, failing)) {
            watcher.watch(migration.pid(), "migration 2");
            finish(alter);
        }
        assertThat(report.isAlive()).isFalse();
    }

    @Test
    void aWatcherWhoseQueriesAreDeniedReportsOnceBacksOffAndNeverStopsTheMigration(TestDatabase db)
            throws Exception {
        String migrator = db.createRole("migrator");
        createOrders(db);
        db.execute("ALTER TABLE orders OWNER TO " + migrator,
                "REVOKE EXECUTE ON FUNCTION pg_blocking_pids(integer) FROM PUBLIC");
        try (LogCapture log = new LogCapture()) {
            TestSession report = reader(db, "report");
            TestSession migration = db.sessionAs(migrator, "migration");
            CompletableFuture<Void> alter = startBlocked(migration, "ALTER TABLE orders ADD COLUMN note text");
            RecordingListener events = new RecordingListener();
            try (Watcher watcher = new Watcher(db.dataSource(migrator, migrator),
                    WatchSettings.defaults().withPollInterval(java.time.Duration.ofMillis(25)),
                    StandardBlockingAction.TERMINATE, events).start()) {
                watcher.watch(migration.pid(), "migration 2");
                eventually().until(() -> events.failures.size() >= 5);
                long started = System.nanoTime();
                int before = events.failures.size();
                eventually().until(() -> events.failures.size() >= before + 2);
                long waitedMillis = (System.nanoTime() - started) / 1_000_000;

                assertThat(events.failures).allSatisfy((failure) -> assertThat(failure)
                    .hasMessageContaining("permission denied for function pg_blocking_pids"));
                assertThat(waitedMillis).as("backing off: two more attempts after five failures take over 0.8 s")
                    .isGreaterThanOrEqualTo(800);
                assertThat(log.at(ch.qos.logback.classic.Level.WARN, "pgmigrate: watcher poll failed"))
                    .as("one WARN for a failure that repeats").hasSize(1);
                assertThat(alter).isNotDone();
                assertThat(report.isAlive()).isTrue();

                report.rollback();
                finish(alter);
            }
        }
        finally {
            db.execute("GRANT EXECUTE ON FUNCTION pg_blocking_pids(integer) TO PUBLIC");
        }
        assertThat(watcherThreads()).isEmpty();
    }

    @Test
    void closeEndsTheThreadEvenWhenItsPollHangs(TestDatabase db) throws Exception {
        createOrders(db);
        TestSession migration = db.session("migration");
        Watcher watcher = watcher(db, WatchSettings.defaults(), StandardBlockingAction.TERMINATE,
                new RecordingListener());
        watcher.watch(migration.pid(), "migration 2");
        awaitPolls(watcher, 2);
        int watcherPid = db.pidsOf(Watcher.APPLICATION_NAME).get(0);
        Thread thread = Thread.getAllStackTraces().keySet().stream()
            .filter((candidate) -> candidate.getName().startsWith("pgmigrate-watcher") && candidate.isAlive())
            .findFirst()
            .orElseThrow();
        // the watcher's backend stops answering (a server that hangs, a network that drops packets): its statement
        // timeout cannot fire, and the poll waits in the driver's socket read
        signal("STOP", watcherPid);
        try {
            eventually().during(Duration.ofMillis(500)).until(() -> inDriverRead(thread));

            CompletableFuture<Void> closed = CompletableFuture.runAsync(watcher::close);

            closed.get(Watching.DEADLINE.toSeconds(), TimeUnit.SECONDS);
            assertThat(thread.isAlive()).isFalse();
            assertThat(watcherThreads()).isEmpty();
        }
        finally {
            signal("CONT", watcherPid);
        }
        eventually().until(() -> !db.isAlive(watcherPid));
    }

    private static boolean inDriverRead(Thread thread) {
        return Arrays.stream(thread.getStackTrace())
            .anyMatch((frame) -> frame.getClassName().startsWith("org.postgresql.core.PGStream"));
    }

    private static void signal(String signal, int pid) throws Exception {
        Process kill = new ProcessBuilder("kill", "-" + signal, Integer.toString(pid)).inheritIO().start();
        assertThat(kill.waitFor(30, TimeUnit.SECONDS)).isTrue();
        assertThat(kill.exitValue()).isZero();
    }

    private static List<String> watcherThreads() {
        return Thread.getAllStackTraces().keySet().stream()
            .filter(Thread::isAlive)
            .map(Thread::getName)
            .filter((name) -> name.startsWith("pgmigrate-watcher"))
            .toList();
    }
}
