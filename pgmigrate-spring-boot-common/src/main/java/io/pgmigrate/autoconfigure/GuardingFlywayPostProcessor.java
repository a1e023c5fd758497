package io.pgmigrate.autoconfigure;

import io.pgmigrate.flyway.FlywayGuard;
import org.flywaydb.core.Flyway;

import org.springframework.beans.BeansException;
import org.springframework.beans.factory.BeanFactory;
import org.springframework.beans.factory.BeanFactoryAware;
import org.springframework.beans.factory.ObjectProvider;
import org.springframework.beans.factory.config.BeanPostProcessor;
import org.springframework.beans.factory.config.ConfigurableListableBeanFactory;

/**
 * Guards every {@code migrate()} of the {@link Flyway} bean that Spring Boot's {@code FlywayAutoConfiguration}
 * defines, whoever calls it: Boot's {@code FlywayMigrationInitializer} at start-up, a user's
 * {@code FlywayMigrationStrategy}, or the application later on.
 * <p>
 * The bean becomes a {@link GuardedBootFlyway}: still a {@link Flyway} of the same configuration, injected wherever
 * the Flyway was, with {@code migrate()} run through the {@link FlywayGuard} and every other method (configuration,
 * {@code info()}, {@code repair()}, ...) Flyway's own. Nothing else is replaced: a user's strategy stays the bean it
 * is, and Boot's initializer runs as Boot wrote it, its {@code NoSuchMethodError} fallback for a Flyway core and
 * database module of different versions included (the fallback calls {@code migrate()} again, on the guarded bean).
 * A Flyway bean the application defines itself is left alone.
 */
final class GuardingFlywayPostProcessor implements BeanPostProcessor, BeanFactoryAware {

    /** Where Boot's own Flyway bean is defined: its auto-configuration and the classes nested in it. */
    private final String bootFlywayConfiguration;

    private final ObjectProvider<FlywayGuard> guard;

    private volatile boolean guarded;

    private ConfigurableListableBeanFactory beanFactory;

    /**
     * A post-processor that guards Boot's Flyway with the given guard.
     * @param bootFlywayConfiguration the class name of the generation's {@code FlywayAutoConfiguration}
     * @param guard the guard, looked up when a migration runs
     */
    GuardingFlywayPostProcessor(String bootFlywayConfiguration, ObjectProvider<FlywayGuard> guard) {
        this.bootFlywayConfiguration = bootFlywayConfiguration;
        this.guard = guard;
    }

    /** Whether a Flyway bean of Boot's has been guarded: one of the application's own is left alone. */
    boolean guardedBootsFlyway() {
        return this.guarded;
    }

    @Override
    public void setBeanFactory(BeanFactory beanFactory) {
        this.beanFactory = (beanFactory instanceof ConfigurableListableBeanFactory listable) ? listable : null;
    }

    @Override
    public Object postProcessAfterInitialization(Object bean, String beanName) throws BeansException {
        if (bean instanceof Flyway flyway && definedByBoot(beanName)) {
            this.guarded = true;
            return new GuardedBootFlyway(flyway, this.guard);
        }
        return bean;
    }

    private boolean definedByBoot(String beanName) {
        return BootBeans.definedBy(this.beanFactory, beanName, this.bootFlywayConfiguration);
    }
}
