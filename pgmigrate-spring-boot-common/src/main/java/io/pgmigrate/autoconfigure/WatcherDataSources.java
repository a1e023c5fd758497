package io.pgmigrate.autoconfigure;

import javax.sql.DataSource;

import io.pgmigrate.core.internal.LogLines;
import io.pgmigrate.flyway.FlywayGuard;
import org.slf4j.Logger;

import org.springframework.boot.jdbc.DataSourceBuilder;
import org.springframework.jdbc.datasource.DelegatingDataSource;
import org.springframework.jdbc.datasource.SimpleDriverDataSource;

/**
 * The DataSource of the watcher in Spring Boot. Flyway's DataSource is usually the application's pool, and the
 * watcher must never wait for a connection of a pool that Flyway and the application share: with every connection
 * taken, it could not deal with the session that blocks the migration. So the watcher gets an unpooled DataSource
 * of its own, with the URL, user and password of Flyway's, derived the way Spring Boot's Flyway
 * auto-configuration derives one for {@code spring.flyway.user}; with {@code spring.flyway.url}, Flyway's
 * DataSource is already unpooled and the watcher's is a copy of it.
 */
final class WatcherDataSources {

    private static final Logger log = LogLines.logger("io.pgmigrate");

    private WatcherDataSources() {
    }

    /**
     * An unpooled DataSource with the URL, user, password and driver of Flyway's (of the DataSource it wraps, for
     * a proxy). Properties set on the pool other than these (HikariCP's {@code data-source-properties}, for
     * example) are not carried over: put them in the URL. When they cannot be read, the watcher uses Flyway's
     * DataSource itself, after a WARN line that says what follows and what to do.
     * @see FlywayGuard#withWatcherDataSource(java.util.function.Function)
     */
    static DataSource derivedFrom(DataSource flywayDataSource) {
        // Spring's own proxies are unwrapped here, not only by DataSourceBuilder: a CI run once saw its unwrapping
        // leave the proxy in place and fail to read a URL from it
        DataSource target = flywayDataSource;
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
            String type = flywayDataSource.getClass().getName();
            log.atWarn()
                .addKeyValue("datasource", type)
                .addKeyValue("error", String.valueOf(ex.getMessage()))
                .log("pgmigrate: could not make the watcher a DataSource of its own from Flyway's DataSource, so the "
                        + "watcher takes its connection from Flyway's DataSource: if that is a pool shared with the "
                        + "application, it must have a connection to spare for the watcher for the whole migration. "
                        + "To give the watcher its own, define a FlywayGuard bean with "
                        + "FlywayGuard.withWatcherDataSource(...): datasource={} error={}", type, ex.getMessage());
            return flywayDataSource;
        }
    }
}
