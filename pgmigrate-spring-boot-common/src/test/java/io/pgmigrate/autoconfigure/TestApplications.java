package io.pgmigrate.autoconfigure;

import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.sql.SQLException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

import io.pgmigrate.testsupport.TestDatabase;
import io.pgmigrate.testsupport.TestSession;
import org.flywaydb.core.Flyway;

import org.springframework.boot.SpringApplication;
import org.springframework.boot.SpringBootConfiguration;
import org.springframework.boot.autoconfigure.EnableAutoConfiguration;
import org.springframework.boot.json.JsonParserFactory;
import org.springframework.context.ConfigurableApplicationContext;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * Whole applications (web server, actuator, Micrometer, Flyway, pgmigrate), auto-configured from the test
 * classpath, started against a test database; and what their start-up failures hold.
 */
public final class TestApplications {

    private TestApplications() {
    }

    /**
     * Starts an application connected to the test database as its superuser, on a random port, with the
     * {@code pgmigrate} and {@code metrics} endpoints exposed.
     * @param defaults more default properties, such as {@code spring.flyway.locations}; the properties override them
     * @param properties {@code name=value} pairs, given as command-line arguments
     * @param configurations more configuration classes, such as a bean of the test
     */
    public static ConfigurableApplicationContext start(TestDatabase database, Map<String, Object> defaults,
            List<String> properties, Class<?>... configurations) {
        Map<String, Object> all = new LinkedHashMap<>();
        all.put("spring.datasource.url", database.jdbcUrl());
        all.put("spring.datasource.username", database.user());
        all.put("spring.datasource.password", database.password());
        all.put("spring.datasource.hikari.maximum-pool-size", "4");
        all.put("server.port", "0");
        all.put("management.endpoints.web.exposure.include", "pgmigrate,metrics");
        all.put("spring.main.banner-mode", "off");
        // the test classpath has both tools: each test switches on the one it migrates with
        all.put("spring.liquibase.enabled", "false");
        all.putAll(defaults);
        List<Class<?>> sources = new ArrayList<>(List.of(Application.class));
        sources.addAll(List.of(configurations));
        SpringApplication application = new SpringApplication(sources.toArray(Class<?>[]::new));
        application.setDefaultProperties(all);
        return application.run(properties.stream().map((property) -> "--" + property).toArray(String[]::new));
    }

    /** The first exception of the given type in the failure's causes; the assertion fails when there is none. */
    public static <T extends Throwable> T cause(Throwable failure, Class<T> type) {
        Throwable current = failure;
        while (current != null && !type.isInstance(current)) {
            current = current.getCause();
        }
        assertThat(current).as("a %s in %s", type.getSimpleName(), failure).isNotNull();
        return type.cast(current);
    }


    /** Applies V1 of {@code db/app} (the accounts table) to the schema with plain Flyway. */
    public static void migrateAccountsToV1(TestDatabase database, String schema) {
        Flyway.configure()
            .dataSource(database.dataSource())
            .schemas(schema)
            .locations("classpath:db/app")
            .target("1")
            .load()
            .migrate();
    }

    /** Applies V1 to the schema, then opens a session idle in transaction on its accounts table. */
    public static TestSession accountsBlocker(TestDatabase database, String schema) throws SQLException {
        migrateAccountsToV1(database, schema);
        TestSession blocker = database.session("reporting").begin();
        blocker.execute("SELECT count(*) FROM " + schema + ".accounts");
        return blocker;
    }

    /** Starts the application on the migrations of {@code db/app} in the schema. */
    public static ConfigurableApplicationContext startAccounts(TestDatabase database, String schema,
            List<String> properties, Class<?>... configurations) {
        return start(database, Map.of("spring.flyway.locations", "classpath:db/app", "spring.flyway.schemas", schema),
                properties, configurations);
    }

    /**
     * Starts the application on the Liquibase changelog {@code db/changelog/orders.yaml} in the schema (which holds
     * Liquibase's own tables too), with Flyway off.
     */
    public static ConfigurableApplicationContext startOrdersChangelog(TestDatabase database, String schema,
            List<String> properties, Class<?>... configurations) {
        return start(database, Map.of("spring.liquibase.enabled", "true", "spring.flyway.enabled", "false",
                "spring.liquibase.change-log", "classpath:db/changelog/orders.yaml", "spring.liquibase.default-schema",
                schema, "spring.liquibase.parameters.schema", schema), properties, configurations);
    }

    /** Creates the orders table in the schema, then opens a session idle in transaction that read it. */
    public static TestSession ordersBlocker(TestDatabase database, String schema) throws SQLException {
        database.execute("CREATE SCHEMA " + schema, "CREATE TABLE " + schema + ".orders (id int PRIMARY KEY, total int)");
        TestSession blocker = database.session("reporting").begin();
        blocker.execute("SELECT count(*) FROM " + schema + ".orders");
        return blocker;
    }

    /** Whether the changeset 2-add-note has run in the schema. */
    public static boolean ordersHaveNote(TestDatabase database, String schema) throws SQLException {
        return Boolean.TRUE.equals(database.queryValue("SELECT EXISTS (SELECT 1 FROM information_schema.columns "
                + "WHERE table_schema = ? AND table_name = 'orders' AND column_name = 'note')", schema));
    }

    /** GETs a path of the application's actuator and parses the JSON answer; the status must be 200. */
    public static Map<String, Object> getJson(ConfigurableApplicationContext application, String path)
            throws Exception {
        String port = application.getEnvironment().getProperty("local.server.port");
        HttpResponse<String> response = HttpClient.newHttpClient()
            .send(HttpRequest.newBuilder(URI.create("http://localhost:" + port + path))
                .timeout(Duration.ofSeconds(30))
                .build(), HttpResponse.BodyHandlers.ofString());
        assertThat(response.statusCode()).as("GET %s: %s", path, response.body()).isEqualTo(200);
        return JsonParserFactory.getJsonParser().parseMap(response.body());
    }

    /** A JSON array as a list. */
    @SuppressWarnings("unchecked")
    public static <T> List<T> list(Object value) {
        return (List<T>) value;
    }

    /** A JSON object as a map. */
    @SuppressWarnings("unchecked")
    public static Map<String, Object> map(Object value) {
        return (Map<String, Object>) value;
    }

    /** Whether the test migration V2 (add email) has run in the schema. */
    public static boolean accountsHaveEmail(TestDatabase database, String schema) throws SQLException {
        return Boolean.TRUE.equals(database.queryValue("SELECT EXISTS (SELECT 1 FROM information_schema.columns "
                + "WHERE table_schema = ? AND table_name = 'accounts' AND column_name = 'email')", schema));
    }

    /** The application: everything on the test classpath, auto-configured. */
    @SpringBootConfiguration(proxyBeanMethods = false)
    @EnableAutoConfiguration
    static class Application {

    }
}
