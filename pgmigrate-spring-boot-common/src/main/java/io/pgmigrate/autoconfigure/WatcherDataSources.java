package io.pgmigrate.autoconfigure;

import javax.sql.DataSource;

import io.pgmigrate.core.internal.LogLines;
import org.slf4j.Logger;

import org.springframework.boot.jdbc.DataSourceBuilder;
import org.springframework.jdbc.datasource.DelegatingDataSource;
import org.springframework.jdbc.datasource.SimpleDriverDataSource;

/**
 * The DataSource of the watcher in Spring Boot. The migration tool's DataSource (Flyway's or Liquibase's) is usually
 * the application's pool, and the watcher must never wait for a connection of a pool that the tool and the
 * application share: with every connection taken, it could not deal with the session that blocks the migration. So
 * the watcher gets an unpooled DataSource of its own, with the URL, user and password of the tool's, derived the way
 * Spring Boot's Flyway auto-configuration derives one for {@code spring.flyway.user}; with {@code spring.flyway.url}
 * (or {@code spring.liquibase.url}), the tool's DataSource is already unpooled and the watcher's is a copy of it.
 * Loads no class of either tool.
 */
final class WatcherDataSources {

    private static final Logger log = LogLines.logger("io.pgmigrate");

    private WatcherDataSources() {
    }

    /**
     * The watcher's DataSource for Flyway's DataSource, as {@link #derivedFrom} makes it.
     * @see io.pgmigrate.flyway.FlywayGuard#withWatcherDataSource(java.util.function.Function)
     */
    static DataSource forFlyway(DataSource flywayDataSource) {
        return derivedFrom(flywayDataSource, "Flyway", "FlywayGuard");
    }

    /**
     * The watcher's DataSource for Liquibase's DataSource, as {@link #derivedFrom} makes it.
     * @see io.pgmigrate.liquibase.LiquibaseGuard#withWatcherDataSource(java.util.function.Function)
     */
    static DataSource forLiquibase(DataSource liquibaseDataSource) {
        return derivedFrom(liquibaseDataSource, "Liquibase", "LiquibaseGuard");
    }

    /**
     * An unpooled DataSource with the URL, user, password and driver of the tool's (of the DataSource it wraps, for
     * a proxy). Properties set on the pool other than these (HikariCP's {@code data-source-properties}, for
     * example) are not carried over: put them in the URL. When they cannot be read, the watcher uses the tool's
     * DataSource itself, after a WARN line that names the tool, says what follows and what to do.
     * @param tool the migration tool, as the WARN line names it: {@code Flyway}, {@code Liquibase}
     * @param guard the simple name of the tool's guard class, whose bean gives the watcher a DataSource of its own
     */
    private static DataSource derivedFrom(DataSource toolDataSource, String tool, String guard) {
        // Spring's own proxies are unwrapped here, not only by DataSourceBuilder: a CI run once saw its unwrapping
        // leave the proxy in place and fail to read a URL from it
        DataSource target = toolDataSource;
        while (target instanceof DelegatingDataSource delegating && delegating.getTargetDataSource() != null) {
            target = delegating.getTargetDataSource();
        }
        try {
            SimpleDriverDataSource unpooled = DataSourceBuilder.derivedFrom(target)
                .type(SimpleDriverDataSource.class)
                .build();
            if (unpooled.getUrl() == null) {
                throw new IllegalStateException("it shows no JDBC URL");
            }
            return unpooled;
        }
        catch (RuntimeException | LinkageError ex) {
            String type = toolDataSource.getClass().getName();
            log.atWarn()
                .addKeyValue("datasource", type)
                .addKeyValue("error", String.valueOf(ex.getMessage()))
                .log("pgmigrate: could not make the watcher a DataSource of its own from {}'s DataSource, so the "
                        + "watcher takes its connection from {}'s DataSource: if that is a pool shared with the "
                        + "application, it must have a connection to spare for the watcher for the whole migration. "
                        + "To give the watcher its own, define a {} bean with {}.withWatcherDataSource(...): "
                        + "datasource={} error={}", tool, tool, guard, guard, type, ex.getMessage());
            return toolDataSource;
        }
    }
}
