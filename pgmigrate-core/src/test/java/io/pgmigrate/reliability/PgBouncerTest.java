package io.pgmigrate.reliability;

import static io.pgmigrate.reliability.Reliability.eventually;
import static io.pgmigrate.reliability.Reliability.flyway;
import static io.pgmigrate.reliability.Reliability.hasColumn;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.Statement;

import io.pgmigrate.core.BlockerOutcome;
import io.pgmigrate.core.StandardBlockingAction;
import io.pgmigrate.flyway.FlywayGuard;
import io.pgmigrate.flyway.RecordingGuardListener;
import io.pgmigrate.flyway.UnpinnedConnectionException;
import io.pgmigrate.testsupport.PgBouncer;
import io.pgmigrate.testsupport.PostgresTest;
import io.pgmigrate.testsupport.TestDatabase;
import org.flywaydb.core.api.output.MigrateResult;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * Issue 7: PgBouncer in session pooling between the application and PostgreSQL. Skipped where the
 * {@code pgbouncer} binary is not installed (CI installs Debian's package).
 */
@PostgresTest
class PgBouncerTest {

    @BeforeAll
    static void needsPgBouncer() {
        assumeTrue(PgBouncer.binary() != null, "pgbouncer is not installed (Debian: apt-get install -y pgbouncer); "
                + "skipping the PgBouncer tests");
    }

    @Test
    void aGuardedMigrationThroughPgBouncerInSessionPoolingTerminatesTheBlockerAndApplies(TestDatabase db)
            throws Exception {
        db.execute("DROP TABLE IF EXISTS orders", "CREATE TABLE orders (id int)");
        try (PgBouncer bouncer = PgBouncer.start(db, "session");
                Connection blocker = bouncer.connect("report")) {
            // the application's report, through PgBouncer too: idle in a transaction that read orders
            blocker.setAutoCommit(false);
            int blockerPid = backendPid(blocker);
            try (Statement statement = blocker.createStatement()) {
                statement.execute("SELECT count(*) FROM orders");
            }
            RecordingGuardListener events = new RecordingGuardListener();

            MigrateResult result = new FlywayGuard(Reliability.settings(), StandardBlockingAction.TERMINATE, events)
                .migrate(flyway(bouncer.dataSource(), "reliability_watcher", "history_session").target("1").load());

            assertThat(result.success).isTrue();
            assertThat(hasColumn(db, "public", "orders", "note")).isTrue();
            // the pid the guard watched and the pid it terminated are PostgreSQL's, behind PgBouncer
            assertThat(events.terminatedPids()).containsExactly(blockerPid);
            assertThat(db.isAlive(blockerPid)).isFalse();
            assertThat(events.reports).extracting((r) -> r.outcome()).containsExactly(BlockerOutcome.TERMINATED);
            assertThat(events.runs).singleElement().satisfies((run) -> assertThat(run.backendPids())
                .singleElement().isNotEqualTo(blockerPid));
            assertThat(events.failures).isEmpty();
            assertThat(Reliability.pgmigrateThreadAlive()).isFalse();
            // server connections PgBouncer keeps in its pool carry no pgmigrate setting
            eventually().until(() -> Reliability.pgmigrateSessions(db) == 0);
        }
    }

    @Test
    void inTransactionPoolingAMigrationWhoseConnectionMovedToAnotherBackendIsNotStarted(TestDatabase db)
            throws Exception {
        db.execute("DROP TABLE IF EXISTS orders", "CREATE TABLE orders (id int)");
        try (PgBouncer bouncer = PgBouncer.start(db, "transaction")) {
            RecordingGuardListener events = new RecordingGuardListener();
            // between Flyway's connect and its first migration, PgBouncer's server connections are recycled
            // (server_lifetime): the migration's transaction runs on a new backend
            assertThatThrownBy(() -> new FlywayGuard(Reliability.settings(), StandardBlockingAction.TERMINATE, events)
                .migrate(flyway(bouncer.dataSource(), "reliability_watcher", "history_transaction")
                    .callbacks(bouncer.recycleServerConnectionsBeforeMigrate())
                    .target("1")
                    .load()))
                .isInstanceOfSatisfying(UnpinnedConnectionException.class, (unpinned) -> {
                    assertThat(unpinned.migration()).isEqualTo("1 (add note to orders)");
                    assertThat(unpinned.currentPid()).isNotEqualTo(unpinned.connectedPid());
                    assertThat(unpinned.getMessage())
                        .startsWith("pgmigrate: migration 1 (add note to orders) was not started: its connection "
                                + "moved from PostgreSQL backend pid " + unpinned.connectedPid() + " to pid "
                                + unpinned.currentPid())
                        .contains("PgBouncer pool_mode=transaction")
                        .contains("session pooling mode");
                });

            // nothing of the migration ran, and nothing was watched or signalled
            assertThat(hasColumn(db, "public", "orders", "note")).isFalse();
            assertThat(db.queryValue("SELECT count(*) FROM history_transaction WHERE version = '1'")).isEqualTo(0L);
            assertThat(events.migrationsStarted()).isEmpty();
            assertThat(events.reports).isEmpty();
            assertThat(events.runs).singleElement().satisfies((run) -> {
                assertThat(run.success()).isFalse();
                assertThat(run.failure()).contains("was not started");
            });
            assertThat(Reliability.pgmigrateThreadAlive()).isFalse();
        }
    }

    private static int backendPid(Connection connection) throws Exception {
        try (Statement statement = connection.createStatement();
                ResultSet rows = statement.executeQuery("SELECT pg_backend_pid()")) {
            rows.next();
            return rows.getInt(1);
        }
    }
}
