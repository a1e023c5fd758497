package io.pgmigrate.autoconfigure;

import java.lang.reflect.Method;

import org.jspecify.annotations.Nullable;

import org.springframework.beans.factory.NoSuchBeanDefinitionException;
import org.springframework.beans.factory.config.BeanDefinition;
import org.springframework.beans.factory.config.ConfigurableListableBeanFactory;
import org.springframework.beans.factory.support.RootBeanDefinition;

/** Tells a migration tool's bean that Spring Boot's auto-configuration made from one the application made itself. */
final class BootBeans {

    private BootBeans() {
    }

    /**
     * Whether the bean was made by a factory method of the given auto-configuration class (or a class nested in
     * it), as Spring Boot's {@code FlywayAutoConfiguration} and {@code LiquibaseAutoConfiguration} make theirs.
     * @param autoConfiguration the class name of that generation's auto-configuration
     */
    static boolean definedBy(@Nullable ConfigurableListableBeanFactory beanFactory, String beanName,
            String autoConfiguration) {
        if (beanFactory == null) {
            return false;
        }
        BeanDefinition definition;
        try {
            definition = beanFactory.getMergedBeanDefinition(beanName);
        }
        catch (NoSuchBeanDefinitionException ex) {
            return false;
        }
        if (!(definition instanceof RootBeanDefinition root)) {
            return false;
        }
        Method factoryMethod = root.getResolvedFactoryMethod();
        return factoryMethod != null && factoryMethod.getDeclaringClass().getName().startsWith(autoConfiguration);
    }
}
