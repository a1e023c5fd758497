package io.pgmigrate.reliability;

import java.io.IOException;
import java.net.ServerSocket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.sql.Connection;
import java.sql.DriverManager;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Properties;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;

import javax.sql.DataSource;

import io.pgmigrate.testsupport.TestDatabase;
import org.postgresql.ds.PGSimpleDataSource;

/**
 * A PgBouncer process in front of the test database's server, for the tests that put it between the
 * application and PostgreSQL. Needs the {@code pgbouncer} binary (Debian's package {@code pgbouncer});
 * {@link #binary()} is {@code null} when there is none, so a test can skip.
 */
final class PgBouncer implements AutoCloseable {

    private final Path directory;
    private final Process process;
    private final int port;
    private final TestDatabase db;

    private PgBouncer(Path directory, Process process, int port, TestDatabase db) {
        this.directory = directory;
        this.process = process;
        this.port = port;
        this.db = db;
    }

    /** The pgbouncer binary on the PATH or in /usr/sbin, {@code null} when it is not installed. */
    static Path binary() {
        List<String> places = new ArrayList<>(List.of(System.getenv().getOrDefault("PATH", "").split(":")));
        places.add("/usr/sbin");
        places.add("/usr/local/sbin");
        return places.stream()
            .filter((place) -> !place.isBlank())
            .map((place) -> Path.of(place, "pgbouncer"))
            .filter(Files::isExecutable)
            .findFirst()
            .orElse(null);
    }

    /**
     * Starts PgBouncer in the given pool mode ({@code session} or {@code transaction}) in front of the database's
     * server, trusting the test's superuser, and returns once a connection through it works.
     */
    static PgBouncer start(TestDatabase db, String poolMode) throws Exception {
        Path directory = Files.createTempDirectory("pgmigrate-pgbouncer");
        int port = freePort();
        String serverUrl = db.jdbcUrl().substring("jdbc:postgresql://".length());
        String hostPort = serverUrl.substring(0, serverUrl.indexOf('/'));
        String host = hostPort.substring(0, hostPort.lastIndexOf(':'));
        String serverPort = hostPort.substring(hostPort.lastIndexOf(':') + 1);
        Path users = directory.resolve("userlist.txt");
        Files.writeString(users, "\"" + db.user() + "\" \"" + db.password() + "\"\n");
        Path config = directory.resolve("pgbouncer.ini");
        Files.writeString(config, String.join("\n",
                "[databases]",
                "* = host=" + ("localhost".equals(host) ? "127.0.0.1" : host) + " port=" + serverPort,
                "[pgbouncer]",
                "listen_addr = 127.0.0.1",
                "listen_port = " + port,
                "unix_socket_dir =",
                "auth_type = trust",
                "auth_file = " + users,
                "pool_mode = " + poolMode,
                "max_client_conn = 200",
                "default_pool_size = 50",
                // the JDBC driver sends extra_float_digits at start-up, which PgBouncer does not track
                "ignore_startup_parameters = extra_float_digits",
                ""));
        // PgBouncer refuses to run as root; as root (a CI container), it runs as nobody and must read its files
        List<String> command = new ArrayList<>(List.of(binary().toString()));
        if ("root".equals(System.getProperty("user.name"))) {
            Files.setPosixFilePermissions(directory, PosixFilePermissions.fromString("rwxr-xr-x"));
            Files.setPosixFilePermissions(users, PosixFilePermissions.fromString("rw-r--r--"));
            Files.setPosixFilePermissions(config, PosixFilePermissions.fromString("rw-r--r--"));
            command.addAll(List.of("-u", "nobody"));
        }
        command.add(config.toString());
        Process process = new ProcessBuilder(command)
            .redirectErrorStream(true)
            .redirectOutput(directory.resolve("pgbouncer.log").toFile())
            .start();
        PgBouncer bouncer = new PgBouncer(directory, process, port, db);
        try {
            Reliability.eventually().ignoreExceptions().until(() -> {
                if (!process.isAlive()) {
                    throw new IllegalStateException("pgbouncer exited: " + bouncer.log());
                }
                try (Connection connection = bouncer.connect("pgbouncer-probe")) {
                    return connection.isValid(5);
                }
            });
        }
        catch (RuntimeException ex) {
            bouncer.close();
            throw new IllegalStateException("pgbouncer did not start: " + bouncer.log(), ex);
        }
        return bouncer;
    }

    /** JDBC URL of the test database through PgBouncer. */
    String jdbcUrl() {
        return "jdbc:postgresql://127.0.0.1:" + port + "/" + db.name();
    }

    /** A non-pooling DataSource of the test database through PgBouncer, as the test's superuser. */
    DataSource dataSource() {
        PGSimpleDataSource dataSource = new PGSimpleDataSource();
        dataSource.setUrl(jdbcUrl());
        dataSource.setUser(db.user());
        dataSource.setPassword(db.password());
        return dataSource;
    }

    Connection connect(String applicationName) throws Exception {
        Properties properties = new Properties();
        properties.setProperty("user", db.user());
        properties.setProperty("password", db.password());
        properties.setProperty("ApplicationName", applicationName);
        return DriverManager.getConnection(jdbcUrl(), properties);
    }

    String log() {
        try {
            return Files.readString(directory.resolve("pgbouncer.log"));
        }
        catch (IOException ex) {
            return "(no log: " + ex.getMessage() + ")";
        }
    }

    @Override
    public void close() throws Exception {
        process.destroy();
        if (!process.waitFor(30, TimeUnit.SECONDS)) {
            process.destroyForcibly().waitFor(30, TimeUnit.SECONDS);
        }
        try (Stream<Path> files = Files.walk(directory)) {
            files.sorted(Comparator.reverseOrder()).forEach((file) -> file.toFile().delete());
        }
    }

    private static int freePort() throws IOException {
        try (ServerSocket socket = new ServerSocket(0)) {
            return socket.getLocalPort();
        }
    }
}
