package io.pgmigrate.autoconfigure.reliability;

import io.pgmigrate.autoconfigure.metrics.PgMigrateMetrics;
import java.util.List;
import java.util.Map;

import com.zaxxer.hikari.HikariDataSource;
import io.micrometer.core.instrument.MeterRegistry;
import io.pgmigrate.testsupport.PostgresTest;
import io.pgmigrate.testsupport.TestDatabase;
import io.pgmigrate.testsupport.TestSession;
import org.flywaydb.core.Flyway;
import org.junit.jupiter.api.Test;

import org.springframework.context.ConfigurableApplicationContext;

import static io.pgmigrate.autoconfigure.reliability.Startup.columnExists;
import static io.pgmigrate.autoconfigure.reliability.Startup.counter;
import static io.pgmigrate.autoconfigure.reliability.Startup.finish;
import static io.pgmigrate.autoconfigure.reliability.Startup.get;
import static io.pgmigrate.autoconfigure.reliability.Startup.list;
import static io.pgmigrate.autoconfigure.reliability.Startup.startInBackground;
import static org.assertj.core.api.Assertions.assertThat;

/**
 * The watcher never waits for a connection of the pool that Flyway and the application share. With
 * a HikariCP pool of 2, Flyway holds both (its main connection and the migration's); the watcher has an unpooled
 * DataSource of its own, derived from Flyway's, and ends the blocker with default settings.
 */
@PostgresTest
class SharedPoolStartupTests {

    @Test
    void withAPoolOfTwoTheWatcherStillTerminatesTheBlockerAndTheMigrationAppliesOnTheFirstAttempt(
            TestDatabase database) throws Exception {
        Startup.applyV1(database.dataSource(), "pool_of_two");
        TestSession blocker = database.session("reporting").begin()
            .execute("SELECT count(*) FROM pool_of_two.accounts");

        try (ConfigurableApplicationContext application = finish(startInBackground(database, "pool_of_two",
                List.of("spring.datasource.hikari.maximum-pool-size=2")))) {
            assertThat(application.getBean(HikariDataSource.class).getMaximumPoolSize()).isEqualTo(2);
            assertThat(application.getBean(Flyway.class).getConfiguration().getDataSource())
                .isSameAs(application.getBean(HikariDataSource.class));
            assertThat(blocker.isAlive()).isFalse();
            assertThat(columnExists(database, "pool_of_two")).isTrue();
            assertTerminatedOnTheFirstAttempt(application, blocker);
        }
    }

    @Test
    void withSpringFlywayUrlTheWatcherConnectsWithACopyOfFlywaysDataSource(TestDatabase database) throws Exception {
        Startup.applyV1(database.dataSource(), "flyway_url");
        TestSession blocker = database.session("reporting").begin()
            .execute("SELECT count(*) FROM flyway_url.accounts");

        try (ConfigurableApplicationContext application = finish(startInBackground(database, "flyway_url",
                List.of("spring.datasource.hikari.maximum-pool-size=2", "spring.flyway.url=" + database.jdbcUrl(),
                        "spring.flyway.user=" + database.user(), "spring.flyway.password=" + database.password())))) {
            assertThat(application.getBean(Flyway.class).getConfiguration().getDataSource())
                .isNotInstanceOf(HikariDataSource.class);
            assertThat(blocker.isAlive()).isFalse();
            assertThat(columnExists(database, "flyway_url")).isTrue();
            assertTerminatedOnTheFirstAttempt(application, blocker);
        }
    }

    private static void assertTerminatedOnTheFirstAttempt(ConfigurableApplicationContext application,
            TestSession blocker) throws Exception {
        assertThat(counter(application, PgMigrateMetrics.BLOCKERS, "action", "terminated")).isEqualTo(1.0);
        assertThat(application.getBean(MeterRegistry.class).find(PgMigrateMetrics.LOCK_TIMEOUTS).counters())
            .allSatisfy((timeouts) -> assertThat(timeouts.count()).isZero());
        assertThat(application.getBean(MeterRegistry.class).find(PgMigrateMetrics.WATCHER_ERRORS).counters())
            .allSatisfy((errors) -> assertThat(errors.count()).isZero());
        List<Map<String, Object>> runs = list(get(application, "/actuator/pgmigrate").get("runs"));
        assertThat(runs).hasSize(1);
        Map<String, Object> run = runs.get(0);
        assertThat(run).containsEntry("outcome", "success");
        assertThat(((Number) run.get("migrationsApplied")).intValue()).isEqualTo(1);
        List<Map<String, Object>> blockers = list(run.get("blockers"));
        assertThat(blockers).anySatisfy((seen) -> {
            assertThat(((Number) seen.get("pid")).intValue()).isEqualTo(blocker.pid());
            assertThat(seen).containsEntry("action", "terminated");
        });
    }
}
