package io.pgmigrate.autoconfigure;

import java.lang.reflect.Method;

import javax.sql.DataSource;

import io.pgmigrate.liquibase.LiquibaseGuard;
import liquibase.Liquibase;
import liquibase.integration.spring.Customizer;
import liquibase.integration.spring.SpringLiquibase;
import org.aopalliance.intercept.MethodInterceptor;
import org.aopalliance.intercept.MethodInvocation;

import org.springframework.aop.framework.ProxyFactory;
import org.springframework.beans.BeansException;
import org.springframework.beans.factory.BeanFactory;
import org.springframework.beans.factory.BeanFactoryAware;
import org.springframework.beans.factory.ObjectProvider;
import org.springframework.beans.factory.config.BeanPostProcessor;
import org.springframework.beans.factory.config.ConfigurableListableBeanFactory;

/**
 * Guards the update of the {@link SpringLiquibase} bean that Spring Boot's {@code LiquibaseAutoConfiguration}
 * defines. {@code SpringLiquibase} updates in {@code afterPropertiesSet()}, which Spring calls on what the
 * post-processors return before initialisation: the bean becomes a class-based proxy of itself whose
 * {@code afterPropertiesSet()} runs the update through the {@link LiquibaseGuard}, attempt after attempt; every
 * other method goes straight to Boot's bean.
 * <p>
 * Each attempt gives Boot's bean the guard's DataSource and a customizer that first runs the application's own
 * {@code Customizer<Liquibase>} (the one Boot set, unchanged), then puts the guard's {@code ChangeExecListener} in
 * front of whatever listener that customizer set, so the application's listener still gets every event. Both are
 * put back when the update is over. A {@code SpringLiquibase} the application defines itself is left alone.
 */
final class GuardingLiquibasePostProcessor implements BeanPostProcessor, BeanFactoryAware {

    /** Where Boot's own SpringLiquibase bean is defined: its auto-configuration and the classes nested in it. */
    private final String bootLiquibaseConfiguration;

    private final ObjectProvider<LiquibaseGuard> guard;

    private ConfigurableListableBeanFactory beanFactory;

    private volatile boolean guarded;

    /**
     * A post-processor that guards Boot's SpringLiquibase with the given guard.
     * @param bootLiquibaseConfiguration the class name of the generation's {@code LiquibaseAutoConfiguration}
     * @param guard the guard, looked up when the update runs
     */
    GuardingLiquibasePostProcessor(String bootLiquibaseConfiguration, ObjectProvider<LiquibaseGuard> guard) {
        this.bootLiquibaseConfiguration = bootLiquibaseConfiguration;
        this.guard = guard;
    }

    @Override
    public void setBeanFactory(BeanFactory beanFactory) {
        this.beanFactory = (beanFactory instanceof ConfigurableListableBeanFactory listable) ? listable : null;
    }

    @Override
    public Object postProcessBeforeInitialization(Object bean, String beanName) throws BeansException {
        if (bean instanceof SpringLiquibase liquibase && definedByBoot(beanName)) {
            ProxyFactory proxy = new ProxyFactory(liquibase);
            proxy.setProxyTargetClass(true);
            proxy.addAdvice(new GuardedUpdate(this.guard, liquibase));
            this.guarded = true;
            return proxy.getProxy(liquibase.getClass().getClassLoader());
        }
        return bean;
    }

    /** Whether a SpringLiquibase bean of Boot's has been guarded: one of the application's own is left alone. */
    boolean guardedBootsLiquibase() {
        return this.guarded;
    }

    private boolean definedByBoot(String beanName) {
        return BootBeans.definedBy(this.beanFactory, beanName, this.bootLiquibaseConfiguration);
    }

    /** {@code afterPropertiesSet()} (the update) under the guard, on Boot's bean; every other method as it is. */
    static final class GuardedUpdate implements MethodInterceptor {

        private final ObjectProvider<LiquibaseGuard> guard;

        private final SpringLiquibase target;

        GuardedUpdate(ObjectProvider<LiquibaseGuard> guard, SpringLiquibase target) {
            this.guard = guard;
            this.target = target;
        }

        @Override
        public Object invoke(MethodInvocation invocation) throws Throwable {
            Method method = invocation.getMethod();
            if ("afterPropertiesSet".equals(method.getName()) && method.getParameterCount() == 0) {
                update();
                return null;
            }
            return invocation.proceed();
        }

        private void update() throws Exception {
            DataSource dataSource = this.target.getDataSource();
            Customizer<Liquibase> applications = this.target.getCustomizer();
            try {
                this.guard.getObject().run(dataSource, (guarded, guardLiquibase) -> {
                    this.target.setDataSource(guarded);
                    this.target.setCustomizer((liquibase) -> {
                        if (applications != null) {
                            applications.customize(liquibase);
                        }
                        guardLiquibase.accept(liquibase);
                    });
                    this.target.afterPropertiesSet();
                });
            }
            finally {
                this.target.setDataSource(dataSource);
                this.target.setCustomizer(applications);
            }
        }
    }
}
