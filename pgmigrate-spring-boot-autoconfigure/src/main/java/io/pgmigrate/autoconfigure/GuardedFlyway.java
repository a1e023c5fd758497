package io.pgmigrate.autoconfigure;

import io.pgmigrate.flyway.FlywayGuard;
import org.flywaydb.core.Flyway;
import org.flywaydb.core.api.FlywayException;
import org.flywaydb.core.api.MigrationInfoService;
import org.flywaydb.core.api.configuration.Configuration;
import org.flywaydb.core.api.output.BaselineResult;
import org.flywaydb.core.api.output.CleanResult;
import org.flywaydb.core.api.output.MigrateResult;
import org.flywaydb.core.api.output.OperationResult;
import org.flywaydb.core.api.output.RepairResult;
import org.flywaydb.core.api.output.ValidateResult;
import org.flywaydb.core.extensibility.ConfigurationExtension;

/**
 * The {@link Flyway} a user's migration strategy is given: {@code migrate()} runs under the guard, every other
 * command goes to the Flyway that Spring Boot built, unchanged.
 */
final class GuardedFlyway extends Flyway {

    private final Flyway target;

    private final FlywayGuard guard;

    GuardedFlyway(Flyway target, FlywayGuard guard) {
        super(target.getConfiguration());
        this.target = target;
        this.guard = guard;
    }

    @Override
    public MigrateResult migrate() throws FlywayException {
        return this.guard.migrate(this.target);
    }

    @Override
    public Configuration getConfiguration() {
        return this.target.getConfiguration();
    }

    @Override
    public <T extends ConfigurationExtension> T getConfigurationExtension(Class<T> type) {
        return this.target.getConfigurationExtension(type);
    }

    @Override
    public MigrationInfoService info() {
        return this.target.info();
    }

    @Override
    public CleanResult clean() {
        return this.target.clean();
    }

    @Override
    public void validate() throws FlywayException {
        this.target.validate();
    }

    @Override
    public ValidateResult validateWithResult() throws FlywayException {
        return this.target.validateWithResult();
    }

    @Override
    public BaselineResult baseline() throws FlywayException {
        return this.target.baseline();
    }

    @Override
    public RepairResult repair() throws FlywayException {
        return this.target.repair();
    }

    @Override
    public OperationResult undo() throws FlywayException {
        return this.target.undo();
    }
}
