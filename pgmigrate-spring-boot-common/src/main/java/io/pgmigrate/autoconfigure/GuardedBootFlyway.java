package io.pgmigrate.autoconfigure;

import io.pgmigrate.flyway.FlywayGuard;
import org.flywaydb.core.Flyway;
import org.flywaydb.core.api.output.MigrateResult;

import org.springframework.beans.factory.ObjectProvider;

/**
 * What Boot's {@link Flyway} bean becomes when the guard is on: a Flyway built from the same configuration, whose
 * {@code migrate()} runs Boot's Flyway under the {@link FlywayGuard}; every other method ({@code info()},
 * {@code validate()}, {@code repair()}, ...) is Flyway's own, on that same configuration.
 * <p>
 * A subclass compiled with pgmigrate rather than a proxy generated at start-up: a class-based proxy would bring
 * bytecode generation and the AOP machinery into every start-up, most of which have nothing to migrate. Public
 * because Boot's initializer calls {@code migrate()} reflectively on the bean's class when it falls back after a
 * {@code NoSuchMethodError}; only pgmigrate's auto-configuration creates one.
 */
public final class GuardedBootFlyway extends Flyway {

    private final Flyway boots;

    private final ObjectProvider<FlywayGuard> guard;

    /**
     * @param boots the Flyway that Boot's auto-configuration defined; it migrates, under the guard
     * @param guard the guard, looked up when a migration runs
     */
    GuardedBootFlyway(Flyway boots, ObjectProvider<FlywayGuard> guard) {
        super(boots.getConfiguration());
        this.boots = boots;
        this.guard = guard;
    }

    @Override
    public MigrateResult migrate() {
        return this.guard.getObject().migrate(this.boots);
    }
}
