package io.pgmigrate.flyway;

import static io.pgmigrate.flyway.Guarding.settings;
import static org.assertj.core.api.Assertions.assertThat;

import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CyclicBarrier;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;

import io.pgmigrate.core.BlockerReport;
import io.pgmigrate.core.StandardBlockingAction;
import io.pgmigrate.testsupport.PostgresTest;
import io.pgmigrate.testsupport.TestDatabase;
import org.flywaydb.core.Flyway;
import org.flywaydb.core.api.output.MigrateResult;
import org.junit.jupiter.api.Test;

@PostgresTest
class ConcurrentInstancesTest {

    private static final int INSTANCES = 10;

    @Test
    void tenInstancesMigrateTheSameDatabaseAtOnceAndNoneTerminatesAnother(TestDatabase db) throws Exception {
        CyclicBarrier start = new CyclicBarrier(INSTANCES);
        List<RecordingGuardListener> listeners = new ArrayList<>();
        List<Future<MigrateResult>> results = new ArrayList<>();
        ExecutorService threads = Executors.newFixedThreadPool(INSTANCES);
        try {
            for (int i = 0; i < INSTANCES; i++) {
                RecordingGuardListener events = new RecordingGuardListener();
                listeners.add(events);
                // an empty database, as on a first deployment; no baseline: ten baselines would race
                Flyway flyway = Flyway.configure().dataSource(db.dataSource()).locations("classpath:db/many").load();
                FlywayGuard guard = new FlywayGuard(settings(), StandardBlockingAction.TERMINATE, events);
                results.add(threads.submit(() -> {
                    start.await(Guarding.DEADLINE.toSeconds(), TimeUnit.SECONDS);
                    return guard.migrate(flyway);
                }));
            }
            int executed = 0;
            for (Future<MigrateResult> result : results) {
                MigrateResult migrated = result.get(3, TimeUnit.MINUTES);
                assertThat(migrated.success).isTrue();
                executed += migrated.migrationsExecuted;
            }
            assertThat(executed).isEqualTo(4);
        }
        finally {
            threads.shutdownNow();
        }

        Map<String, Long> rows = new HashMap<>();
        try (Connection connection = db.dataSource().getConnection(); Statement statement = connection.createStatement();
                ResultSet history = statement.executeQuery(
                        "SELECT script, count(*) FROM flyway_schema_history WHERE success GROUP BY script")) {
            while (history.next()) {
                rows.put(history.getString(1), history.getLong(2));
            }
        }
        assertThat(rows).containsOnly(Map.entry("V1__create_accounts.sql", 1L), Map.entry("V2__add_balance.sql", 1L),
                Map.entry("V3__index_owner.sql", 1L), Map.entry("R__rich_accounts.sql", 1L));
        assertThat(db.queryValue("SELECT count(*) FROM flyway_schema_history")).isEqualTo(4L);

        List<BlockerReport> reports = listeners.stream().flatMap((l) -> l.reports.stream()).toList();
        List<BlockerReport> signalled = reports.stream().filter((r) -> r.outcome().signalled()).toList();
        assertThat(signalled).as("sessions terminated or cancelled by one of the instances").isEmpty();
        assertThat(signalled).noneMatch((r) -> r.blocker().applicationName().startsWith("pgmigrate-"));
        assertThat(listeners).allSatisfy((l) -> {
            assertThat(l.runs).singleElement().satisfies((run) -> assertThat(run.success()).isTrue());
            assertThat(l.failures).isEmpty();
        });
        System.out.println("pgmigrate measured: ten instances, reports by outcome: " + reports.stream()
            .collect(java.util.stream.Collectors.groupingBy(BlockerReport::outcome, java.util.stream.Collectors.counting())));
        assertThat(Guarding.watcherThreadAlive()).isFalse();
    }
}
