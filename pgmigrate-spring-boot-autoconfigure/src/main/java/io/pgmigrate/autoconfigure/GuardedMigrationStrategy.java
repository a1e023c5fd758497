package io.pgmigrate.autoconfigure;

import java.sql.Connection;
import java.sql.SQLException;

import javax.sql.DataSource;

import io.pgmigrate.core.LogLines;
import io.pgmigrate.flyway.FlywayGuard;
import org.flywaydb.core.Flyway;
import org.slf4j.Logger;

import org.springframework.beans.factory.ObjectProvider;
import org.springframework.boot.flyway.autoconfigure.FlywayMigrationStrategy;

/**
 * Runs Spring Boot's start-up migration under the {@link FlywayGuard}.
 * <p>
 * Without a user's strategy it replaces Boot's plain {@code flyway.migrate()}. Around a user's
 * {@link FlywayMigrationStrategy} it hands that strategy a {@link Flyway} whose {@code migrate()} is guarded,
 * so whatever the strategy does before and after (repair, validate, ...) stays as it was.
 * <p>
 * The guard only knows PostgreSQL: on another database (H2 in a user's tests, for example) the migration
 * runs unguarded, after one INFO line.
 */
final class GuardedMigrationStrategy implements FlywayMigrationStrategy {

    private static final Logger log = LogLines.logger(GuardedMigrationStrategy.class.getName());

    private final ObjectProvider<FlywayGuard> guard;

    private final FlywayMigrationStrategy delegate;

    /**
     * A strategy that runs {@code migrate()} under the guard.
     * @param guard the guard, looked up when the migration runs
     * @param delegate the user's strategy to wrap, {@code null} for plain {@code migrate()}
     */
    GuardedMigrationStrategy(ObjectProvider<FlywayGuard> guard, FlywayMigrationStrategy delegate) {
        this.guard = guard;
        this.delegate = delegate;
    }

    @Override
    public void migrate(Flyway flyway) {
        if (!isPostgres(flyway)) {
            unguarded(flyway);
            return;
        }
        FlywayGuard flywayGuard = this.guard.getObject();
        if (this.delegate == null) {
            flywayGuard.migrate(flyway);
        }
        else {
            this.delegate.migrate(new GuardedFlyway(flyway, flywayGuard));
        }
    }

    /** The strategy this one wraps, {@code null} when it replaces plain {@code migrate()}. */
    FlywayMigrationStrategy getDelegate() {
        return this.delegate;
    }

    private void unguarded(Flyway flyway) {
        if (this.delegate == null) {
            flyway.migrate();
        }
        else {
            this.delegate.migrate(flyway);
        }
    }

    private static boolean isPostgres(Flyway flyway) {
        DataSource dataSource = flyway.getConfiguration().getDataSource();
        if (dataSource == null) {
            return true;
        }
        String product;
        try (Connection connection = dataSource.getConnection()) {
            product = connection.getMetaData().getDatabaseProductName();
        }
        catch (SQLException ex) {
            // Flyway reports an unreachable database better than we could, honouring its connect-retries;
            // the guard wraps the same DataSource and steps in once Flyway is connected.
            log.debug("pgmigrate: could not look at the database before migrating", ex);
            return true;
        }
        if ("PostgreSQL".equalsIgnoreCase(product)) {
            return true;
        }
        log.atInfo()
            .addKeyValue("database", product)
            .log("pgmigrate: not guarding the migration, the database is not PostgreSQL: database={}", product);
        return false;
    }
}
