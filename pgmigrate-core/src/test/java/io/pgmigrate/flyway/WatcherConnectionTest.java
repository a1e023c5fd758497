package io.pgmigrate.flyway;

import static io.pgmigrate.flyway.Guarding.createOrders;
import static io.pgmigrate.flyway.Guarding.flyway;
import static io.pgmigrate.flyway.Guarding.settings;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowable;

import java.sql.Connection;
import java.time.Duration;
import java.util.concurrent.TimeUnit;

import com.zaxxer.hikari.HikariConfig;
import com.zaxxer.hikari.HikariDataSource;
import io.pgmigrate.core.StandardBlockingAction;
import io.pgmigrate.core.WatcherConnectionException;
import io.pgmigrate.testsupport.PostgresTest;
import io.pgmigrate.testsupport.TestDatabase;
import org.flywaydb.core.Flyway;
import org.junit.jupiter.api.Test;

/**
 * The watcher never depends on a spare connection of a pool that Flyway and the application
 * share. It opens its connection before Flyway runs anything; a run whose watcher cannot get one fails at once and
 * says why, instead of migrating unguarded.
 */
@PostgresTest
class WatcherConnectionTest {

    @Test
    void aRunWhoseWatcherCannotGetAConnectionFailsBeforeAnyMigrationRunsAndNamesThePool(TestDatabase db)
            throws Exception {
        db.execute("DROP TABLE IF EXISTS orders");
        createOrders(db);
        HikariConfig config = new HikariConfig();
        config.setJdbcUrl(db.jdbcUrl());
        config.setUsername(db.user());
        config.setPassword(db.password());
        config.setMaximumPoolSize(1);
        config.setConnectionTimeout(250);
        config.setPoolName("shop-pool");
        RecordingGuardListener events = new RecordingGuardListener();
        try (HikariDataSource pool = new HikariDataSource(config)) {
            Flyway flyway = flyway(pool, "shared_pool").load();
            Throwable failure;
            long started = System.nanoTime();
            // the application holds the pool's only connection
            try (Connection application = pool.getConnection()) {
                failure = catchThrowable(() -> new FlywayGuard(settings(), StandardBlockingAction.TERMINATE, events)
                    .migrate(flyway));
            }
            long tookMillis = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - started);

            assertThat(failure).isInstanceOf(WatcherConnectionException.class)
                .hasMessageStartingWith("pgmigrate: the watcher could not get its connection from DataSource "
                        + "com.zaxxer.hikari.HikariDataSource (pool \"shop-pool\", maximum pool size 1): ")
                .hasMessageContaining("Connection is not available")
                .hasMessageContaining("nothing was run under it")
                .hasMessageContaining("give the watcher a DataSource of its own (FlywayGuard.withWatcherDataSource)"
                        + " or make the pool larger");
            assertThat(((WatcherConnectionException) failure).dataSource())
                .isEqualTo("DataSource com.zaxxer.hikari.HikariDataSource (pool \"shop-pool\", maximum pool size 1)");
            assertThat(tookMillis).as("fails after the pool's connection timeout, not after a migration")
                .isLessThan(Duration.ofSeconds(10).toMillis());
        }
        // nothing ran: no schema history, no migration, no column; the run is recorded as failed
        assertThat(db.queryValue("SELECT to_regclass('flyway_schema_history')::text")).isNull();
        assertThat(Guarding.hasColumn(db, "orders", "note")).isFalse();
        assertThat(events.started).isEmpty();
        assertThat(events.runs).singleElement().satisfies((run) -> {
            assertThat(run.success()).isFalse();
            assertThat(run.failure()).contains("shop-pool");
        });
        assertThat(Guarding.watcherThreadAlive()).isFalse();
    }

    @Test
    void aWatcherWithADataSourceOfItsOwnGuardsAMigrationOnAPoolThatFlywayFills(TestDatabase db) throws Exception {
        db.execute("DROP TABLE IF EXISTS orders");
        createOrders(db);
        HikariConfig config = new HikariConfig();
        config.setJdbcUrl(db.jdbcUrl());
        config.setUsername(db.user());
        config.setPassword(db.password());
        // Flyway's two connections (main and migration) take the whole pool
        config.setMaximumPoolSize(2);
        config.setConnectionTimeout(1000);
        config.setPoolName("full-pool");
        RecordingGuardListener events = new RecordingGuardListener();
        try (HikariDataSource pool = new HikariDataSource(config)) {
            var report = Guarding.reader(db, "nightly-report");

            new FlywayGuard(settings(), StandardBlockingAction.TERMINATE, events)
                .withWatcherDataSource(db.dataSource())
                .migrate(flyway(pool, "shared_pool").table("history_own").load());

            assertThat(report.isAlive()).isFalse();
            assertThat(events.terminatedPids()).containsExactly(report.pid());
            assertThat(Guarding.hasColumn(db, "orders", "note")).isTrue();
            assertThat(events.failures).isEmpty();
        }
    }
}
