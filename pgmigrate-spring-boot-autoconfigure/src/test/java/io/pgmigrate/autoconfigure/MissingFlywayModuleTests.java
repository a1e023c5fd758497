package io.pgmigrate.autoconfigure;

import java.io.File;
import java.lang.reflect.Method;
import java.net.URL;
import java.net.URLClassLoader;
import java.util.ArrayList;
import java.util.List;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

import org.springframework.boot.test.system.CapturedOutput;
import org.springframework.boot.test.system.OutputCaptureExtension;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * A Spring Boot 4 application with Flyway but without Spring Boot's Flyway module ({@code spring-boot-flyway},
 * which {@code spring-boot-starter-flyway} brings): Flyway is never run at start-up, so pgmigrate guards nothing,
 * and one INFO line says so and what to add. The application runs in a class loader of its own: the test
 * classpath without that module.
 */
@ExtendWith(OutputCaptureExtension.class)
class MissingFlywayModuleTests {

    @Test
    void saysSoWithoutSpringBootsFlywayModule(CapturedOutput output) throws Exception {
        String testClassPath = System.getProperty("surefire.test.class.path", System.getProperty("java.class.path"));
        List<URL> urls = new ArrayList<>();
        for (String entry : testClassPath.split(File.pathSeparator)) {
            if (!new File(entry).getName().matches("spring-boot-flyway-.*\\.jar")) {
                urls.add(new File(entry).toURI().toURL());
            }
        }
        assertThat(urls).hasSizeLessThan(testClassPath.split(File.pathSeparator).length);
        try (URLClassLoader loader = new URLClassLoader(urls.toArray(URL[]::new),
                ClassLoader.getPlatformClassLoader())) {
            Method start = Class.forName(StartupCheckTests.class.getName(), true, loader)
                .getDeclaredMethod("start", ClassLoader.class, Object[].class);
            start.setAccessible(true);
            ClassLoader previous = Thread.currentThread().getContextClassLoader();
            Thread.currentThread().setContextClassLoader(loader);
            try {
                start.invoke(null, null, new Object[0]);
            }
            finally {
                Thread.currentThread().setContextClassLoader(previous);
            }
        }
        assertThat(output).containsOnlyOnce("pgmigrate is on the classpath but guards no migration: reason=\"Spring "
                + "Boot's Flyway support (org.springframework.boot.flyway.autoconfigure.FlywayAutoConfiguration) is "
                + "not on the classpath: add org.springframework.boot:spring-boot-starter-flyway");
    }
}
