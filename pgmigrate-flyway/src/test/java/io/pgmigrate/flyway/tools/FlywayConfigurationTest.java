package io.pgmigrate.flyway.tools;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatExceptionOfType;

import static org.awaitility.Awaitility.await;

import java.time.Duration;
import java.util.HashMap;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;

import io.pgmigrate.testsupport.PostgresTest;
import io.pgmigrate.testsupport.TestDatabase;
import io.pgmigrate.testsupport.TestSession;
import org.flywaydb.core.Flyway;
import org.flywaydb.core.api.FlywayException;
import org.flywaydb.core.api.output.MigrateResult;
import org.junit.jupiter.api.Test;

/**
 * Flyway configured only by keys, the way its command line reads {@code flyway.conf} and its arguments and the Maven
 * and Gradle plugins pass their configuration: {@code Flyway.configure().configuration(Map)}.
 */
@PostgresTest
class FlywayConfigurationTest {

    @Test
    void theCallbackAndItsKeysGuardTheMigration(TestDatabase db) throws Exception {
        db.execute("CREATE SCHEMA guarded", "CREATE TABLE guarded.orders (id int PRIMARY KEY, total int)");
        Map<String, String> keys = keys(db, "guarded");
        keys.put("flyway.pgmigrate.lockTimeout", "10s");
        try (TestSession report = db.session("nightly-report").begin().execute("SELECT count(*) FROM guarded.orders")) {
            MigrateResult result = Flyway.configure().configuration(keys).load().migrate();

            assertThat(result.success).isTrue();
            assertThat(report.isAlive()).isFalse();
        }
        // what the migration's own connection had
        assertThat(db.queryValue("SELECT application_name FROM guarded.session_seen")).isEqualTo("pgmigrate-migration");
        assertThat(db.queryValue("SELECT lock_timeout FROM guarded.session_seen")).isEqualTo("10s");
        assertThat(db.queryValue("SELECT connection_check FROM guarded.session_seen")).isEqualTo("1s");
    }

    @Test
    void showLeavesTheBlockerAloneAndTheStallBoundEndsTheWait(TestDatabase db) throws Exception {
        db.execute("CREATE SCHEMA shown", "CREATE TABLE shown.orders (id int PRIMARY KEY, total int)");
        Map<String, String> keys = keys(db, "shown");
        keys.put("flyway.pgmigrate.blockingAction", "show");
        keys.put("flyway.pgmigrate.maxApplicationStall", "500ms");
        try (TestSession report = db.session("nightly-report").begin().execute("SELECT count(*) FROM shown.orders");
                TestSession application = db.session("application")) {
            Flyway flyway = Flyway.configure().configuration(keys).load();
            CompletableFuture<MigrateResult> migrate = CompletableFuture.supplyAsync(flyway::migrate);
            await().atMost(Duration.ofSeconds(60)).until(() -> Boolean.TRUE.equals(db.queryValue(
                    "SELECT EXISTS (SELECT 1 FROM pg_stat_activity WHERE application_name = 'pgmigrate-migration' "
                            + "AND wait_event_type = 'Lock')")));
            // the application queues behind the migration's lock wait
            application.executeAsync("SELECT count(*) FROM shown.orders");

            assertThatExceptionOfType(ExecutionException.class)
                .isThrownBy(() -> migrate.get(60, TimeUnit.SECONDS))
                .withCauseInstanceOf(FlywayException.class);
            await().atMost(Duration.ofSeconds(30)).until(() -> !application.isWaitingForLock());
            assertThat(report.isAlive()).isTrue();
            assertThat(db.queryValue("SELECT count(*) FROM information_schema.columns "
                    + "WHERE table_schema = 'shown' AND column_name = 'email'")).isEqualTo(0L);
        }
    }

    @Test
    void aWrongValueFailsBeforeAnyMigrationNamingTheKey(TestDatabase db) throws Exception {
        db.execute("CREATE SCHEMA wrong");
        Map<String, String> keys = keys(db, "wrong");
        keys.put("flyway.pgmigrate.lockTimeout", "soon");
        Flyway flyway = Flyway.configure().configuration(keys).load();

        assertThatExceptionOfType(FlywayException.class).isThrownBy(flyway::migrate)
            .withMessageContaining("pgmigrate: invalid value 'soon' for flyway.pgmigrate.lockTimeout: it must be a "
                    + "duration with its unit, for example 500ms, 2s or 1m");
        assertThat(db.queryValue("SELECT to_regclass('wrong.flyway_schema_history') IS NULL")).isEqualTo(true);
    }

    private static Map<String, String> keys(TestDatabase db, String schema) {
        Map<String, String> keys = new HashMap<>();
        keys.put("flyway.url", db.jdbcUrl());
        keys.put("flyway.user", db.user());
        keys.put("flyway.password", db.password());
        keys.put("flyway.defaultSchema", schema);
        keys.put("flyway.locations", "classpath:db/tools");
        keys.put("flyway.baselineOnMigrate", "true");
        keys.put("flyway.baselineVersion", "0");
        keys.put("flyway.callbacks", "io.pgmigrate.flyway.PgMigrateCallback");
        return keys;
    }
}
