package io.pgmigrate.autoconfigure;

import io.pgmigrate.flyway.FlywayGuard;

import org.springframework.beans.BeansException;
import org.springframework.beans.factory.ObjectProvider;
import org.springframework.beans.factory.config.BeanPostProcessor;
import org.springframework.boot.flyway.autoconfigure.FlywayMigrationStrategy;

/**
 * Wraps every {@link FlywayMigrationStrategy} bean a user defines in a {@link GuardedMigrationStrategy}, so the
 * start-up migration is guarded even when the application decides itself how to migrate. Spring Boot looks the
 * strategy up by type, so the wrapper takes the place of the user's bean; code that injects the user's strategy
 * by its own class should inject {@link FlywayMigrationStrategy} instead.
 */
final class GuardingMigrationStrategyPostProcessor implements BeanPostProcessor {

    private final ObjectProvider<FlywayGuard> guard;

    /**
     * A post-processor that wraps strategies with the given guard.
     * @param guard the guard, looked up when a migration runs
     */
    GuardingMigrationStrategyPostProcessor(ObjectProvider<FlywayGuard> guard) {
        this.guard = guard;
    }

    @Override
    public Object postProcessAfterInitialization(Object bean, String beanName) throws BeansException {
        if (bean instanceof FlywayMigrationStrategy strategy && !(bean instanceof GuardedMigrationStrategy)) {
            return new GuardedMigrationStrategy(this.guard, strategy);
        }
        return bean;
    }
}
