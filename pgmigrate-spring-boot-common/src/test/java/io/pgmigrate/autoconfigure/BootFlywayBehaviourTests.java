package io.pgmigrate.autoconfigure;

import java.sql.Connection;
import java.sql.SQLException;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.atomic.AtomicInteger;

import com.zaxxer.hikari.HikariDataSource;
import io.pgmigrate.testsupport.PostgresTest;
import io.pgmigrate.testsupport.TestDatabase;
import io.pgmigrate.testsupport.TestSession;
import org.flywaydb.core.Flyway;
import org.junit.jupiter.api.Test;

import org.springframework.context.ConfigurableApplicationContext;
import org.springframework.context.annotation.Bean;
import org.springframework.context.annotation.Configuration;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

/**
 * Adding pgmigrate leaves Spring Boot's Flyway support as it is for the application's own beans: a migration
 * strategy of the user's stays a bean of its own class, and a start-up asks the application's DataSource for as
 * many connections as without pgmigrate.
 */
@PostgresTest
class BootFlywayBehaviourTests {

    private static final Duration DEADLINE = Duration.ofSeconds(60);

    @Test
    void theUsersStrategyKeepsItsClassIsCalledOnceAndIsGuarded(TestDatabase database) throws Exception {
        TestSession blocker = TestApplications.accountsBlocker(database, "own_strategy");
        // StrategyUser takes the strategy by its class: the start-up fails if the bean is of another type
        try (ConfigurableApplicationContext application = TestApplications.startAccounts(database, "own_strategy", List.of(),
                OwnStrategyConfiguration.class)) {
            CountingStrategy strategy = application.getBean(CountingStrategy.class);
            assertThat(application.getBean(StrategyUser.class).strategy).isSameAs(strategy);
            assertThat(application.getBean(BootGeneration.MIGRATION_STRATEGY)).isSameAs(strategy);
            assertThat(strategy.calls).hasValue(1);
            // guarded: the session that blocked the migration was terminated, and the migration applied
            await().atMost(DEADLINE).until(() -> !blocker.isAlive());
            assertThat(TestApplications.accountsHaveEmail(database, "own_strategy")).isTrue();
        }
    }

    @Test
    void aStartUpWithNothingToMigrateTakesNoMoreConnectionsThanWithoutPgmigrate(TestDatabase database)
            throws Exception {
        migrateAll(database, "nothing_plain");
        migrateAll(database, "nothing_guarded");
        int without = connectionsAtStartUp(database, "nothing_plain", false);
        int with = connectionsAtStartUp(database, "nothing_guarded", true);
        assertThat(with).as("getConnection() calls with pgmigrate (%d without)", without).isEqualTo(without);
    }

    @Test
    void aStartUpWithAMigrationTakesNoMoreConnectionsThanWithoutPgmigrate(TestDatabase database) throws Exception {
        TestApplications.migrateAccountsToV1(database, "one_plain");
        TestApplications.migrateAccountsToV1(database, "one_guarded");
        int without = connectionsAtStartUp(database, "one_plain", false);
        int with = connectionsAtStartUp(database, "one_guarded", true);
        assertThat(TestApplications.accountsHaveEmail(database, "one_plain")).isTrue();
        assertThat(TestApplications.accountsHaveEmail(database, "one_guarded")).isTrue();
        assertThat(with).as("getConnection() calls with pgmigrate (%d without)", without).isEqualTo(without);
    }

    /** Starts and stops an application on a counting pool: how often Flyway (and pgmigrate) asked it. */
    private static int connectionsAtStartUp(TestDatabase database, String schema, boolean guarded) {
        CountingPool.database = database;
        try (ConfigurableApplicationContext application = TestApplications.startAccounts(database, schema,
                List.of("pgmigrate.enabled=" + guarded), CountingPoolConfiguration.class)) {
            return application.getBean(CountingPool.class).connections.get();
        }
    }

    private static void migrateAll(TestDatabase database, String schema) {
        Flyway.configure().dataSource(database.dataSource()).schemas(schema).locations("classpath:db/app").load()
            .migrate();
    }

    /** A strategy of the application's own class, as many applications define one. */
    static class CountingStrategy implements BootGeneration.MigrationStrategy {

        final AtomicInteger calls = new AtomicInteger();

        @Override
        public void migrate(Flyway flyway) {
            this.calls.incrementAndGet();
            flyway.migrate();
        }
    }

    /** A bean that takes the strategy by its own class. */
    static class StrategyUser {

        final CountingStrategy strategy;

        StrategyUser(CountingStrategy strategy) {
            this.strategy = strategy;
        }
    }

    @Configuration(proxyBeanMethods = false)
    static class OwnStrategyConfiguration {

        @Bean
        CountingStrategy countingStrategy() {
            return new CountingStrategy();
        }

        @Bean
        StrategyUser strategyUser(CountingStrategy strategy) {
            return new StrategyUser(strategy);
        }
    }

    /** The application's pool, counting how often a connection is asked of it. */
    static class CountingPool extends HikariDataSource {

        static volatile TestDatabase database;

        final AtomicInteger connections = new AtomicInteger();

        @Override
        public Connection getConnection() throws SQLException {
            this.connections.incrementAndGet();
            return super.getConnection();
        }
    }

    @Configuration(proxyBeanMethods = false)
    static class CountingPoolConfiguration {

        @Bean
        CountingPool dataSource() {
            CountingPool pool = new CountingPool();
            pool.setJdbcUrl(CountingPool.database.jdbcUrl());
            pool.setUsername(CountingPool.database.user());
            pool.setPassword(CountingPool.database.password());
            pool.setMaximumPoolSize(4);
            return pool;
        }
    }
}
