package io.pgmigrate.benchmark;

import java.time.Duration;
import java.util.Arrays;

import org.flywaydb.core.api.callback.Callback;
import org.flywaydb.core.api.configuration.FluentConfiguration;

/**
 * One way of running Flyway's migrations: plain {@code flyway.migrate()}, or under pgmigrate with some
 * settings. A migrator builds the Flyway it runs from the configuration it is given, so it may add the
 * callbacks it needs.
 */
interface Migrator {

    /** The name in tables and charts. */
    String name();

    /** The poll interval of the watcher, {@code null} without one. */
    default Duration pollInterval() {
        return null;
    }

    /**
     * Runs every pending migration.
     * @param configuration Flyway's configuration: schema, locations and data source
     * @param probe a callback that must see each migration, {@code null} for none
     * @throws RuntimeException when the migration fails; the scenario counts it
     */
    void migrate(FluentConfiguration configuration, MigrationProbe probe);

    /** Plain Flyway: what users run today. */
    static Migrator plainFlyway() {
        return new Migrator() {
            @Override
            public String name() {
                return "plain Flyway";
            }

            @Override
            public void migrate(FluentConfiguration configuration, MigrationProbe probe) {
                withCallback(configuration, probe).load().migrate();
            }
        };
    }

    /** Appends a callback to those configured: Flyway's {@code callbacks(...)} would replace them. */
    static FluentConfiguration withCallback(FluentConfiguration configuration, Callback callback) {
        if (callback == null) {
            return configuration;
        }
        Callback[] configured = configuration.getCallbacks();
        Callback[] all = Arrays.copyOf(configured, configured.length + 1);
        all[configured.length] = callback;
        return configuration.callbacks(all);
    }
}
