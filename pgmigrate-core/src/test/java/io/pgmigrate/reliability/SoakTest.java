package io.pgmigrate.reliability;

import static io.pgmigrate.reliability.Reliability.eventually;
import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Random;
import java.util.Set;

import com.zaxxer.hikari.HikariConfig;
import com.zaxxer.hikari.HikariDataSource;
import io.pgmigrate.core.BlockerOutcome;
import io.pgmigrate.core.StandardBlockingAction;
import io.pgmigrate.flyway.FlywayGuard;
import io.pgmigrate.core.GuardSettings;
import io.pgmigrate.flyway.RecordingGuardListener;
import io.pgmigrate.testsupport.PostgresTest;
import io.pgmigrate.testsupport.TestDatabase;
import io.pgmigrate.testsupport.TestSession;
import org.flywaydb.core.Flyway;
import org.flywaydb.core.api.output.MigrateResult;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Issue 7, soak: 200 guarded runs in a row, each applying one new migration, about half of them behind a
 * session idle in a transaction on the migrated table; Flyway migrates through a HikariCP pool.
 */
@PostgresTest
class SoakTest {

    private static final int MIGRATIONS = 200;

    @Test
    void twoHundredGuardedRunsWithRandomBlockersLeakNothingAndTerminateOnlyTheBlockers(TestDatabase db,
            @TempDir Path migrations) throws Exception {
        db.execute("CREATE TABLE soak (id int PRIMARY KEY, total int)",
                "INSERT INTO soak SELECT g, g FROM generate_series(1, 100) g");
        HikariConfig config = new HikariConfig();
        config.setJdbcUrl(db.jdbcUrl());
        config.setUsername(db.user());
        config.setPassword(db.password());
        config.addDataSourceProperty("ApplicationName", "soak-app");
        config.setMaximumPoolSize(5);
        config.setPoolName("soak-pool");
        Random random = new Random(42);
        GuardSettings settings = Reliability.settings();
        Set<Integer> allBlockerPids = new HashSet<>();
        List<Integer> allTerminated = new ArrayList<>();
        int runsWithBlocker = 0;
        long start = System.nanoTime();

        try (HikariDataSource pool = new HikariDataSource(config)) {
            Flyway flyway = Flyway.configure()
                .dataSource(pool)
                .locations("filesystem:" + migrations.toAbsolutePath())
                .baselineOnMigrate(true)
                .baselineVersion("0")
                .load();
            for (int i = 1; i <= MIGRATIONS; i++) {
                Files.writeString(migrations.resolve("V" + i + "__soak_" + i + ".sql"),
                        "ALTER TABLE soak ADD COLUMN c" + i + " int;\n");
                TestSession blocker = null;
                if (random.nextBoolean()) {
                    blocker = db.session("soak-blocker").begin().execute("SELECT count(*) FROM soak");
                    allBlockerPids.add(blocker.pid());
                    runsWithBlocker++;
                }
                RecordingGuardListener events = new RecordingGuardListener();

                MigrateResult result = new FlywayGuard(settings, StandardBlockingAction.TERMINATE, events)
                    .migrate(flyway);

                assertThat(result.success).as("run %d", i).isTrue();
                assertThat(result.migrationsExecuted).as("run %d", i).isEqualTo(1);
                List<Integer> terminated = events.terminatedPids();
                allTerminated.addAll(terminated);
                if (blocker == null) {
                    assertThat(terminated).as("run %d, no blocker", i).isEmpty();
                }
                else {
                    // the blocker holds its lock until it ends: the migration applied, so it was terminated, once
                    assertThat(terminated).as("run %d", i).containsExactly(blocker.pid());
                    assertThat(events.reports).as("run %d", i).singleElement()
                        .satisfies((r) -> assertThat(r.outcome()).isEqualTo(BlockerOutcome.TERMINATED));
                    blocker.close();
                }
                assertThat(events.failures).as("run %d, watcher failures", i).isEmpty();
            }
            long seconds = Duration.ofNanos(System.nanoTime() - start).toSeconds();
            System.out.println("pgmigrate measured: soak " + MIGRATIONS + " runs, " + runsWithBlocker
                    + " with a blocker, " + allTerminated.size() + " terminated, " + seconds + "s");

            assertThat(runsWithBlocker).isBetween(MIGRATIONS / 2 - 30, MIGRATIONS / 2 + 30);
            assertThat(allTerminated).hasSize(runsWithBlocker).doesNotHaveDuplicates();
            assertThat(allBlockerPids).containsAll(allTerminated);
            assertThat(db.queryValue("SELECT count(*) FROM flyway_schema_history WHERE success AND version <> '0'"))
                .isEqualTo((long) MIGRATIONS);
            assertThat(db.queryValue("SELECT count(*) FROM information_schema.columns "
                    + "WHERE table_name = 'soak' AND column_name ~ '^c[0-9]+$'")).isEqualTo((long) MIGRATIONS);

            // nothing leaked: no thread, no session of pgmigrate, every pooled connection back in the pool
            eventually().until(() -> !Reliability.pgmigrateThreadAlive());
            eventually().until(() -> Reliability.pgmigrateSessions(db) == 0);
            eventually().until(() -> pool.getHikariPoolMXBean().getActiveConnections() == 0);
            assertThat(pool.getHikariPoolMXBean().getTotalConnections()).isLessThanOrEqualTo(5);
        }
    }
}
