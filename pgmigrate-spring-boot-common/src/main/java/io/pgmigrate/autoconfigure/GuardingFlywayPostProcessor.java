package io.pgmigrate.autoconfigure;

import java.lang.reflect.Method;

import io.pgmigrate.flyway.FlywayGuard;
import org.aopalliance.intercept.MethodInterceptor;
import org.aopalliance.intercept.MethodInvocation;
import org.flywaydb.core.Flyway;

import org.springframework.aop.framework.ProxyFactory;
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
 * The bean becomes a class-based proxy of itself: still a {@link Flyway}, injected wherever the Flyway was, with
 * {@code migrate()} run through the {@link FlywayGuard} and every other method (configuration, {@code info()},
 * {@code repair()}, ...) going straight to Boot's Flyway. Nothing else is replaced: a user's strategy stays the
 * bean it is, and Boot's initializer runs as Boot wrote it, its {@code NoSuchMethodError} fallback for a Flyway core
 * and database module of different versions included (the fallback calls {@code migrate()} again, on the proxy). A
 * Flyway bean the application defines itself is left alone.
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
            ProxyFactory proxy = new ProxyFactory(flyway);
            proxy.setProxyTargetClass(true);
            proxy.addAdvice(new GuardedMigrate(this.guard, flyway));
            this.guarded = true;
            return proxy.getProxy(flyway.getClass().getClassLoader());
        }
        return bean;
    }

    private boolean definedByBoot(String beanName) {
        return BootBeans.definedBy(this.beanFactory, beanName, this.bootFlywayConfiguration);
    }

    /** {@code migrate()} under the guard, on Boot's Flyway; every other method as it is. */
    static final class GuardedMigrate implements MethodInterceptor {

        private final ObjectProvider<FlywayGuard> guard;

        private final Flyway target;

        GuardedMigrate(ObjectProvider<FlywayGuard> guard, Flyway target) {
            this.guard = guard;
            this.target = target;
        }

        @Override
        public Object invoke(MethodInvocation invocation) throws Throwable {
            Method method = invocation.getMethod();
            if ("migrate".equals(method.getName()) && method.getParameterCount() == 0) {
                return this.guard.getObject().migrate(this.target);
            }
            return invocation.proceed();
        }
    }
}
