package io.pgmigrate.flyway;

import io.pgmigrate.core.GuardSettings;
import static org.awaitility.Awaitility.await;

import java.sql.SQLException;
import java.time.Duration;

import javax.sql.DataSource;

import io.pgmigrate.testsupport.TestDatabase;
import io.pgmigrate.testsupport.TestSession;
import org.awaitility.core.ConditionFactory;
import org.flywaydb.core.Flyway;
import org.flywaydb.core.api.configuration.FluentConfiguration;
import org.flywaydb.database.postgresql.PostgreSQLConfigurationExtension;

/** Shared steps of the guard tests: a table the migrations alter, a blocker, a Flyway for a location. */
final class Guarding {

    static final Duration DEADLINE = Duration.ofSeconds(60);

    private Guarding() {
    }

    static ConditionFactory eventually() {
        return await().atMost(DEADLINE).pollInterval(Duration.ofMillis(20));
    }

    /** Watch settings that react fast; the rest as a user would start. */
    static GuardSettings settings() {
        GuardSettings defaults = GuardSettings.defaults();
        return defaults.withWatch(defaults.watch().withPollInterval(Duration.ofMillis(20)));
    }

    static void createOrders(TestDatabase db) throws SQLException {
        db.execute("CREATE TABLE orders (id int PRIMARY KEY, total int)",
                "INSERT INTO orders SELECT g, g * 10 FROM generate_series(1, 100) g");
    }

    /** A session idle in a transaction that has read orders: it holds ACCESS SHARE on it. */
    static TestSession reader(TestDatabase db, String applicationName) throws SQLException {
        return db.session(applicationName).begin().execute("SELECT count(*) FROM orders");
    }

    /** A plain Flyway for the migrations under {@code db/<location>}; tables made by the test are version 0. */
    static FluentConfiguration flyway(DataSource dataSource, String location) {
        return Flyway.configure()
            .dataSource(dataSource)
            .locations("classpath:db/" + location)
            .baselineOnMigrate(true)
            .baselineVersion("0");
    }

    /**
     * The same Flyway without its transactional advisory lock, set as Flyway 11 to 13 all accept it in Java (the
     * {@code flyway.postgresql.transactional.lock} key of a configuration map needs jackson-databind from Flyway 13).
     */
    static FluentConfiguration withoutTransactionalLock(FluentConfiguration configuration) {
        configuration.getConfigurationExtension(PostgreSQLConfigurationExtension.class).setTransactionalLock(false);
        return configuration;
    }

    static boolean hasColumn(TestDatabase db, String table, String column) throws SQLException {
        return Long.valueOf(1).equals(db.queryValue("SELECT count(*) FROM information_schema.columns "
                + "WHERE table_name = ? AND column_name = ?", table, column));
    }

    static boolean watcherThreadAlive() {
        return Thread.getAllStackTraces().keySet().stream()
            .anyMatch((thread) -> thread.getName().startsWith("pgmigrate-watcher") && thread.isAlive());
    }
}
