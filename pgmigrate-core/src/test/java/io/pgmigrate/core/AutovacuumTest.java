package io.pgmigrate.core;

import java.util.concurrent.CompletableFuture;

import ch.qos.logback.classic.Level;
import io.pgmigrate.core.internal.Watcher;
import io.pgmigrate.flyway.LogCapture;
import io.pgmigrate.testsupport.DedicatedPostgres;
import io.pgmigrate.testsupport.TestDatabase;
import io.pgmigrate.testsupport.TestSession;
import org.junit.jupiter.api.Test;

import static io.pgmigrate.core.Watching.awaitPolls;
import static io.pgmigrate.core.Watching.eventually;
import static io.pgmigrate.core.Watching.finish;
import static io.pgmigrate.core.Watching.startBlocked;
import static io.pgmigrate.core.Watching.watcher;
import static org.assertj.core.api.Assertions.assertThat;

/**
 * An autovacuum that runs to prevent transaction ID wraparound is never cancelled by PostgreSQL, and must not
 * be by pgmigrate either: ending it only starts it over, while the database moves closer to a shutdown that
 * protects it from wraparound. On a server of its own, since it lowers autovacuum_naptime.
 */
class AutovacuumTest {

    @Test
    void anAutovacuumToPreventWraparoundIsNeverSignalled() throws Exception {
        try (DedicatedPostgres postgres = DedicatedPostgres.startNew()) {
            postgres.execute("ALTER SYSTEM SET autovacuum_naptime = '1s'", "SELECT pg_reload_conf()");
            TestDatabase db = postgres.createDatabase("wraparound");
            // a table that must be frozen after 100,000 transactions, vacuumed slowly enough to still run when the
            // migration comes
            db.execute("CREATE TABLE ledger (id int, pad text) WITH (autovacuum_freeze_max_age = 100000, "
                    + "autovacuum_vacuum_cost_delay = 100, autovacuum_vacuum_cost_limit = 1)",
                    "INSERT INTO ledger SELECT g, repeat('x', 200) FROM generate_series(1, 20000) g",
                    "CREATE PROCEDURE use_transaction_ids(n int) LANGUAGE plpgsql AS $$ BEGIN FOR i IN 1..n LOOP "
                            + "PERFORM pg_current_xact_id(); COMMIT; END LOOP; END $$",
                    "CALL use_transaction_ids(110000)");
            eventually().until(() -> autovacuumPid(db) != null);
            int autovacuum = autovacuumPid(db);

            TestSession migration = db.session("migration");
            CompletableFuture<Void> alter = startBlocked(migration, "ALTER TABLE ledger ADD COLUMN note text");
            RecordingListener events = new RecordingListener();
            try (LogCapture log = new LogCapture();
                    Watcher watcher = watcher(db, WatchSettings.defaults(), StandardBlockingAction.TERMINATE, events)) {
                watcher.watch(migration.pid(), "migration 2 (add note)");
                eventually().until(() -> events.has(autovacuum, BlockerOutcome.SYSTEM_PROCESS));
                awaitPolls(watcher, 3);
                assertThat(db.isAlive(autovacuum)).isTrue();
                assertThat(alter).isNotDone();
                assertThat(events.reportsFor(autovacuum)).singleElement().satisfies((r) -> {
                    assertThat(r.blocker().backendType()).isEqualTo("autovacuum worker");
                    assertThat(r.detail()).contains("to prevent transaction ID wraparound");
                });
                assertThat(log.at(Level.INFO, "pgmigrate: Not acting on a PostgreSQL process")).singleElement()
                    .satisfies((line) -> assertThat(line.getFormattedMessage())
                        .contains("outcome=system_process", "pid=" + autovacuum, "backend_type=\"autovacuum worker\""));

                // the operator's decision, not pgmigrate's
                db.execute("SELECT pg_terminate_backend(" + autovacuum + ")");
                finish(alter);
            }
        }
    }

    /** The autovacuum worker that freezes the table to prevent wraparound, once it holds its lock. */
    private static Integer autovacuumPid(TestDatabase db) throws Exception {
        return (Integer) db.queryValue("SELECT a.pid FROM pg_stat_activity a JOIN pg_locks l ON l.pid = a.pid "
                + "WHERE a.backend_type = 'autovacuum worker' AND a.query LIKE '%ledger (to prevent wraparound)' "
                + "AND l.relation = 'ledger'::regclass AND l.granted LIMIT 1");
    }
}
