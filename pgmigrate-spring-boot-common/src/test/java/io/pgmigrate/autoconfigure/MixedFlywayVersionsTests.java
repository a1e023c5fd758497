package io.pgmigrate.autoconfigure;

import java.io.File;
import java.lang.reflect.Method;
import java.net.URL;
import java.net.URLClassLoader;
import java.util.ArrayList;
import java.util.List;
import java.util.UUID;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.stream.Stream;

import javax.sql.DataSource;

import org.flywaydb.core.Flyway;
import org.junit.jupiter.api.Test;

import org.springframework.boot.SpringApplication;
import org.springframework.boot.SpringBootConfiguration;
import org.springframework.boot.autoconfigure.EnableAutoConfiguration;
import org.springframework.context.ConfigurableApplicationContext;
import org.springframework.context.annotation.Configuration;
import org.springframework.jdbc.core.JdbcTemplate;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * A Flyway core older than its database module (flyway-core 11.0.0 beside flyway-database-postgresql of the
 * build's version), as Spring Boot's own {@code Flyway110AutoConfigurationTests} sets it up: the first
 * {@code migrate()} throws {@code NoSuchMethodError}, and Boot's {@code FlywayMigrationInitializer} calls it again
 * reflectively, which migrates. With pgmigrate the application starts and migrates just as it does without.
 * <p>
 * The application runs in a class loader of its own: the test classpath with the older core in place of the
 * build's.
 */
class MixedFlywayVersionsTests {

    @Test
    void bootsFallbackStillMigratesWithPgmigrate() throws Exception {
        assertThat(startInOlderFlyway(false)).isEqualTo("applied=1 guarded=false");
        assertThat(startInOlderFlyway(true)).isEqualTo("applied=1 guarded=true");
    }

    @Test
    void aUsersStrategyMigratesAsWithoutPgmigrate() throws Exception {
        // Boot has no fallback around a user's strategy: this one does what Boot's initializer does
        assertThat(startInOlderFlyway(false, FallbackStrategy.class)).isEqualTo("applied=1 guarded=false calls=1");
        assertThat(startInOlderFlyway(true, FallbackStrategy.class)).isEqualTo("applied=1 guarded=true calls=1");
    }

    /** Starts the application in a class loader with Flyway core 11.0.0, on H2; what it migrated. */
    private static String startInOlderFlyway(boolean pgmigrate, Class<?>... configurations) throws Exception {
        try (URLClassLoader loader = new URLClassLoader(olderFlywayClassPath(), ClassLoader.getPlatformClassLoader())) {
            Class<?> application = Class.forName(MixedApplication.class.getName(), true, loader);
            Method start = application.getDeclaredMethod("start", boolean.class, String[].class);
            start.setAccessible(true);
            ClassLoader previous = Thread.currentThread().getContextClassLoader();
            Thread.currentThread().setContextClassLoader(loader);
            try {
                String[] names = Stream.of(configurations).map(Class::getName).toArray(String[]::new);
                return (String) start.invoke(null, pgmigrate, names);
            }
            finally {
                Thread.currentThread().setContextClassLoader(previous);
            }
        }
    }

    private static URL[] olderFlywayClassPath() throws Exception {
        String testClassPath = System.getProperty("surefire.test.class.path", System.getProperty("java.class.path"));
        File older = new File(System.getProperty("older-flyway-core.dir", "target/older-flyway-core"));
        File[] olderJars = older.listFiles((dir, name) -> name.endsWith(".jar"));
        assertThat(olderJars).as("the jars copied to %s by the build", older).isNotEmpty();
        List<URL> urls = new ArrayList<>();
        for (File jar : olderJars) {
            urls.add(jar.toURI().toURL());
        }
        for (String entry : testClassPath.split(File.pathSeparator)) {
            if (!new File(entry).getName().matches("flyway-core-.*\\.jar")) {
                urls.add(new File(entry).toURI().toURL());
            }
        }
        return urls.toArray(URL[]::new);
    }

    /** The application, loaded (with everything it uses) by the class loader with the older Flyway core. */
    @SpringBootConfiguration(proxyBeanMethods = false)
    @EnableAutoConfiguration
    static class MixedApplication {

        static String start(boolean pgmigrate, String[] configurations) throws ClassNotFoundException {
            assertThat(Flyway.class.getProtectionDomain().getCodeSource().getLocation().getPath())
                .endsWith("flyway-core-11.0.0.jar");
            List<Class<?>> sources = new ArrayList<>(List.of(MixedApplication.class));
            for (String configuration : configurations) {
                sources.add(Class.forName(configuration));
            }
            SpringApplication application = new SpringApplication(sources.toArray(Class<?>[]::new));
            String[] arguments = { "--spring.main.web-application-type=none", "--spring.main.banner-mode=off",
                    "--spring.datasource.url=jdbc:h2:mem:" + UUID.randomUUID() + ";DB_CLOSE_DELAY=-1",
                    "--spring.datasource.username=sa", "--spring.datasource.password=",
                    "--spring.flyway.locations=classpath:db/mixed", "--spring.liquibase.enabled=false",
                    "--pgmigrate.enabled=" + pgmigrate };
            try (ConfigurableApplicationContext context = application.run(arguments)) {
                Integer applied = new JdbcTemplate(context.getBean(DataSource.class)).queryForObject(
                        "SELECT count(*) FROM \"flyway_schema_history\" WHERE \"success\" AND \"version\" = '1'",
                        Integer.class);
                String calls = context.getBeansOfType(FallbackStrategy.class).values().stream()
                    .map((strategy) -> " calls=" + strategy.calls.get())
                    .findFirst()
                    .orElse("");
                return "applied=" + applied + " guarded=" + (context.getBean(Flyway.class) instanceof GuardedBootFlyway)
                        + calls;
            }
        }
    }

    /** A user's strategy that migrates as Boot's initializer does, its fallback included. */
    @Configuration(proxyBeanMethods = false)
    static class FallbackStrategy implements BootGeneration.MigrationStrategy {

        final AtomicInteger calls = new AtomicInteger();

        @Override
        public void migrate(Flyway flyway) {
            this.calls.incrementAndGet();
            try {
                flyway.migrate();
            }
            catch (NoSuchMethodError ex) {
                try {
                    flyway.getClass().getMethod("migrate").invoke(flyway);
                }
                catch (ReflectiveOperationException failed) {
                    throw new IllegalStateException(failed);
                }
            }
        }
    }
}
