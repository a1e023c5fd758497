package io.pgmigrate.benchmark;

import java.time.Duration;

import io.pgmigrate.core.BlockingAction;
import io.pgmigrate.flyway.FlywayGuard;
import io.pgmigrate.core.GuardListener;
import io.pgmigrate.core.GuardSettings;
import org.flywaydb.core.api.configuration.FluentConfiguration;

/** Flyway under pgmigrate's guard, as users run it. */
final class GuardMigrator implements Migrator {

    private final String name;
    private final GuardSettings settings;
    private final BlockingAction action;

    GuardMigrator(String name, GuardSettings settings, BlockingAction action) {
        this.name = name;
        this.settings = settings;
        this.action = action;
    }

    @Override
    public String name() {
        return name;
    }

    @Override
    public Duration pollInterval() {
        return settings.watch().pollInterval();
    }

    @Override
    public void migrate(FluentConfiguration configuration, MigrationProbe probe) {
        new FlywayGuard(settings, action, new GuardListener() {
        }).migrate(Migrator.withCallback(configuration, probe).load());
    }
}
