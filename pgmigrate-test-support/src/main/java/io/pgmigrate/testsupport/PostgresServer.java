package io.pgmigrate.testsupport;

import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.SQLException;
import java.time.Duration;
import java.util.Map;
import java.util.Properties;

import io.zonky.test.db.postgres.embedded.EmbeddedPostgres;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.testcontainers.postgresql.PostgreSQLContainer;

/**
 * The PostgreSQL server the tests of this JVM talk to, started once and shared by every test class.
 * <p>
 * Where it comes from, in order:
 * <ol>
 * <li>{@code PGMIGRATE_TEST_JDBC_URL} (with {@code PGMIGRATE_TEST_USER} and {@code PGMIGRATE_TEST_PASSWORD}):
 * a server that already runs; the user must be a superuser so tests can create databases and roles;</li>
 * <li>{@code -Dpgmigrate.test.server=testcontainers}: a Testcontainers PostgreSQL, for machines with Docker;</li>
 * <li>otherwise the embedded PostgreSQL binaries of the version chosen by {@code -Dpg.version}.</li>
 * </ol>
 * The connection details point at the server's maintenance database {@code postgres}.
 */
public final class PostgresServer {

    private static final Logger log = LoggerFactory.getLogger(PostgresServer.class);

    /** Server settings the suites rely on: room for many blocking sessions and for prepared transactions. */
    private static final Map<String, String> SERVER_SETTINGS = Map.of(
            "max_connections", "1200",
            "max_prepared_transactions", "20",
            "max_locks_per_transaction", "256",
            "fsync", "off",
            "synchronous_commit", "off",
            "full_page_writes", "off");

    private static PostgresServer shared;

    private final String host;
    private final int port;
    private final String user;
    private final String password;
    private final String description;

    PostgresServer(String host, int port, String user, String password, String description) {
        this.host = host;
        this.port = port;
        this.user = user;
        this.password = password;
        this.description = description;
    }

    /** The server of this JVM, started on first use. */
    public static synchronized PostgresServer shared() {
        if (shared == null) {
            shared = start();
            String version = shared.serverVersion();
            log.info("Tests use {}: PostgreSQL {}", shared.description, version);
            String expected = System.getProperty("pg.version");
            if (expected != null && !shared.description.startsWith("the PostgreSQL server at")
                    && !version.startsWith(expected + ".")) {
                throw new IllegalStateException("pg.version=" + expected + " was asked for, but the server runs "
                        + "PostgreSQL " + version);
            }
        }
        return shared;
    }

    private static PostgresServer start() {
        String url = System.getenv("PGMIGRATE_TEST_JDBC_URL");
        if (url != null && !url.isBlank()) {
            return fromUrl(url, System.getenv().getOrDefault("PGMIGRATE_TEST_USER", "postgres"),
                    System.getenv().getOrDefault("PGMIGRATE_TEST_PASSWORD", ""));
        }
        String server = System.getProperty("pgmigrate.test.server", "embedded");
        return switch (server) {
            case "embedded" -> startEmbedded();
            case "testcontainers" -> startContainer();
            default -> throw new IllegalArgumentException(
                    "pgmigrate.test.server=" + server + " is not supported; use embedded or testcontainers");
        };
    }

    private static PostgresServer fromUrl(String url, String user, String password) {
        // jdbc:postgresql://host:port/db?...
        String rest = url.substring("jdbc:postgresql://".length());
        String hostPort = rest.substring(0, rest.indexOf('/') < 0 ? rest.length() : rest.indexOf('/'));
        int colon = hostPort.lastIndexOf(':');
        String host = colon < 0 ? hostPort : hostPort.substring(0, colon);
        int port = colon < 0 ? 5432 : Integer.parseInt(hostPort.substring(colon + 1));
        return new PostgresServer(host, port, user, password, "the PostgreSQL server at " + hostPort);
    }

    private static PostgresServer startEmbedded() {
        try {
            EmbeddedPostgres.Builder builder = EmbeddedPostgres.builder()
                    .setPGStartupWait(Duration.ofSeconds(60));
            SERVER_SETTINGS.forEach(builder::setServerConfig);
            EmbeddedPostgres postgres = builder.start();
            Runtime.getRuntime().addShutdownHook(new Thread(() -> {
                try {
                    postgres.close();
                }
                catch (Exception ex) {
                    // the JVM is ending; the data directory is temporary
                }
            }, "pgmigrate-test-postgres-stop"));
            PostgresServer server = new PostgresServer("localhost", postgres.getPort(), "postgres", "postgres",
                    "embedded PostgreSQL on port " + postgres.getPort());
            return server;
        }
        catch (Exception ex) {
            throw new IllegalStateException("Could not start the embedded PostgreSQL", ex);
        }
    }

    private static PostgresServer startContainer() {
        String image = "postgres:" + System.getProperty("pg.version", "18");
        PostgreSQLContainer container = new PostgreSQLContainer(image);
        StringBuilder command = new StringBuilder("postgres");
        SERVER_SETTINGS.forEach((name, value) -> command.append(" -c ").append(name).append('=').append(value));
        container.withCommand(command.toString());
        container.start();
        Runtime.getRuntime().addShutdownHook(new Thread(container::stop, "pgmigrate-test-postgres-stop"));
        return new PostgresServer(container.getHost(), container.getMappedPort(5432), container.getUsername(),
                container.getPassword(), "Testcontainers " + image);
    }

    /** The server's version, as {@code SHOW server_version} reports it. */
    public String serverVersion() {
        try (Connection connection = connectAdmin();
                java.sql.Statement statement = connection.createStatement();
                java.sql.ResultSet rows = statement.executeQuery("SHOW server_version")) {
            rows.next();
            return rows.getString(1);
        }
        catch (SQLException ex) {
            throw new IllegalStateException("Could not read the server version of " + description, ex);
        }
    }

    /** JDBC URL of the given database on this server. */
    public String jdbcUrl(String database) {
        return "jdbc:postgresql://" + host + ":" + port + "/" + database;
    }

    /** The superuser the tests connect as. */
    public String user() {
        return user;
    }

    /** Password of {@link #user()}. */
    public String password() {
        return password;
    }

    /** Opens a new connection to the given database as the given role. */
    public Connection connect(String database, String role, String rolePassword, String applicationName)
            throws SQLException {
        Properties properties = new Properties();
        properties.setProperty("user", role);
        properties.setProperty("password", rolePassword);
        if (applicationName != null) {
            properties.setProperty("ApplicationName", applicationName);
        }
        return DriverManager.getConnection(jdbcUrl(database), properties);
    }

    /** Opens a new superuser connection to the maintenance database. */
    public Connection connectAdmin() throws SQLException {
        return connect("postgres", user, password, "pgmigrate-test-admin");
    }

    @Override
    public String toString() {
        return description;
    }
}
