package io.pgmigrate.autoconfigure;

import java.io.File;
import java.lang.reflect.InvocationTargetException;
import java.lang.reflect.Method;
import java.net.URL;
import java.net.URLClassLoader;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.UUID;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

import org.springframework.boot.SpringApplication;
import org.springframework.boot.SpringBootConfiguration;
import org.springframework.boot.WebApplicationType;
import org.springframework.boot.autoconfigure.EnableAutoConfiguration;
import org.springframework.boot.test.system.CapturedOutput;
import org.springframework.boot.test.system.OutputCaptureExtension;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * A starter in an application of the other Spring Boot generation, on the classpath such an application has:
 * the Spring Boot 4 starter's auto-configuration (with the Spring Boot 4 Flyway modules it brings) in a Spring Boot
 * 3.5 application, and this module's auto-configuration in a Spring Boot 4 application. The start-up stops at once,
 * before any bean, with a failure analysis that names the application's Spring Boot version and the starter to use.
 * <p>
 * Both live here, the module built after the Spring Boot 4 one: the Spring Boot 4 classpath is the one its build
 * wrote ({@code spring-boot-4.classpath}), the Spring Boot 3.5 classpath is this module's test classpath. Each
 * application runs in a class loader of its own.
 */
@ExtendWith(OutputCaptureExtension.class)
class WrongStarterStartupTests {

    @Test
    void theSpringBoot4StarterInASpringBoot35ApplicationStopsTheStartUp(CapturedOutput output) throws Exception {
        List<URL> classPath = new ArrayList<>();
        for (String entry : testClassPath()) {
            if (!entry.equals(ownClasses())) {
                classPath.add(url(entry));
            }
        }
        classPath.add(url(System.getProperty("spring-boot-4.autoconfigure")));
        // what the Spring Boot 4 starter brings along: Spring Boot 4's Flyway and JDBC modules
        for (String entry : springBoot4ClassPath()) {
            if (new File(entry).getName().matches("spring-boot-(flyway|jdbc)-4\\..*\\.jar")) {
                classPath.add(url(entry));
            }
        }

        String failure = start(classPath);

        assertThat(failure).startsWith("WrongStarterException: pgmigrate: pgmigrate-spring-boot-starter is built for "
                + "Spring Boot 4, but the application runs Spring Boot 3.5.");
        assertThat(output).contains("APPLICATION FAILED TO START")
            .containsPattern("The application runs Spring Boot 3\\.5\\.[0-9]+, but "
                    + "io.pgmigrate:pgmigrate-spring-boot-starter \\(with pgmigrate-spring-boot-autoconfigure\\) is "
                    + "built for Spring Boot 4\\.")
            .contains("Replace io.pgmigrate:pgmigrate-spring-boot-starter with "
                    + "io.pgmigrate:pgmigrate-spring-boot3-starter (for Spring Boot 3.5)");
    }

    @Test
    void theSpringBoot35StarterInASpringBoot4ApplicationStopsTheStartUp(CapturedOutput output) throws Exception {
        List<URL> classPath = new ArrayList<>();
        for (String entry : springBoot4ClassPath()) {
            classPath.add(url(entry));
        }
        classPath.add(url(ownClasses()));
        classPath.add(url(ownTestClasses()));

        String failure = start(classPath);

        assertThat(failure).startsWith("WrongStarterException: pgmigrate: pgmigrate-spring-boot3-starter is built "
                + "for Spring Boot 3.5, but the application runs Spring Boot 4.");
        assertThat(output).contains("APPLICATION FAILED TO START")
            .containsPattern("The application runs Spring Boot 4\\.[0-9]+\\.[0-9]+, but "
                    + "io.pgmigrate:pgmigrate-spring-boot3-starter \\(with pgmigrate-spring-boot3-autoconfigure\\) "
                    + "is built for Spring Boot 3\\.5\\.")
            .contains("Replace io.pgmigrate:pgmigrate-spring-boot3-starter with "
                    + "io.pgmigrate:pgmigrate-spring-boot-starter (for Spring Boot 4)");
    }

    /** Starts {@link WrongGenerationApplication} in a class loader of the given classpath; how it failed. */
    private static String start(List<URL> classPath) throws Exception {
        try (URLClassLoader loader = new URLClassLoader(classPath.toArray(URL[]::new),
                ClassLoader.getPlatformClassLoader())) {
            Method start = Class.forName(WrongGenerationApplication.class.getName(), true, loader)
                .getDeclaredMethod("start");
            start.setAccessible(true);
            ClassLoader previous = Thread.currentThread().getContextClassLoader();
            Thread.currentThread().setContextClassLoader(loader);
            try {
                return (String) start.invoke(null);
            }
            catch (InvocationTargetException ex) {
                throw new AssertionError("the application's start-up did not fail as expected", ex.getCause());
            }
            finally {
                Thread.currentThread().setContextClassLoader(previous);
            }
        }
    }

    private static List<String> testClassPath() {
        return List.of(System.getProperty("surefire.test.class.path", System.getProperty("java.class.path"))
            .split(File.pathSeparator));
    }

    private static List<String> springBoot4ClassPath() throws Exception {
        Path file = Path.of(System.getProperty("spring-boot-4.classpath"));
        assertThat(file).as("the Spring Boot 4 classpath written by pgmigrate-spring-boot-autoconfigure's build")
            .exists();
        return List.of(Files.readString(file).trim().split(File.pathSeparator));
    }

    /** This module's classes: the Spring Boot 3.5 auto-configuration. */
    private static String ownClasses() throws Exception {
        return new File(SpringBoot3StartupCheck.class.getProtectionDomain().getCodeSource().getLocation().toURI())
            .getPath();
    }

    private static String ownTestClasses() throws Exception {
        return new File(WrongStarterStartupTests.class.getProtectionDomain().getCodeSource().getLocation().toURI())
            .getPath();
    }

    private static URL url(String entry) throws Exception {
        assertThat(entry).as("a classpath entry").isNotNull();
        return new File(entry).toURI().toURL();
    }

    /** An application on H2: everything of its classpath, auto-configured. */
    @SpringBootConfiguration(proxyBeanMethods = false)
    @EnableAutoConfiguration
    static class WrongGenerationApplication {

        /** Starts the application; the class and message of the exception that stopped it. */
        static String start() {
            SpringApplication application = new SpringApplication(WrongGenerationApplication.class);
            application.setWebApplicationType(WebApplicationType.NONE);
            try {
                application.run("--spring.main.banner-mode=off",
                        "--spring.datasource.url=jdbc:h2:mem:" + UUID.randomUUID() + ";DB_CLOSE_DELAY=-1",
                        "--spring.flyway.locations=classpath:db/none").close();
                throw new IllegalStateException("the application started");
            }
            catch (RuntimeException ex) {
                return ex.getClass().getSimpleName() + ": " + ex.getMessage();
            }
        }
    }
}
