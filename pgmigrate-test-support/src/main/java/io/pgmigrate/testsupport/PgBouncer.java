package io.pgmigrate.testsupport;

import java.io.IOException;
import java.net.ServerSocket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.SQLException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Properties;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;

import javax.sql.DataSource;

import org.flywaydb.core.api.callback.Callback;
import org.flywaydb.core.api.callback.Context;
import org.flywaydb.core.api.callback.Event;
import org.postgresql.ds.PGSimpleDataSource;

/**
 * A PgBouncer process in front of the test database's server, for the tests that put it between the
 * application and PostgreSQL. Needs the {@code pgbouncer} binary (Debian's package {@code pgbouncer});
 * {@link #binary()} is {@code null} when there is none, so a test can skip.
 */
public final class PgBouncer implements AutoCloseable {

    private static final Duration DEADLINE = Duration.ofSeconds(60);

    private final Path directory;
    private final Process process;
    private final int port;
    private final TestDatabase db;
    private final String poolMode;

    private PgBouncer(Path directory, Process process, int port, TestDatabase db, String poolMode) {
        this.directory = directory;
        this.process = process;
        this.port = port;
        this.db = db;
        this.poolMode = poolMode;
    }

    /** The pgbouncer binary on the PATH or in /usr/sbin, {@code null} when it is not installed. */
    public static Path binary() {
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
    public static PgBouncer start(TestDatabase db, String poolMode) throws Exception {
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
                // a server connection is checked before PgBouncer hands it out, so one that was closed is replaced
                "server_check_delay = 0",
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
        PgBouncer bouncer = new PgBouncer(directory, process, port, db, poolMode);
        // poll until a connection through it works, up to a deadline
        long deadline = System.nanoTime() + DEADLINE.toNanos();
        SQLException lastFailure = null;
        while (System.nanoTime() < deadline) {
            if (!process.isAlive()) {
                bouncer.close();
                throw new IllegalStateException("pgbouncer exited: " + bouncer.log());
            }
            try (Connection connection = bouncer.connect("pgbouncer-probe")) {
                if (connection.isValid(5)) {
                    return bouncer;
                }
            }
            catch (SQLException ex) {
                lastFailure = ex;
            }
            Thread.sleep(20);
        }
        bouncer.close();
        throw new IllegalStateException("pgbouncer did not start within " + DEADLINE + ": " + bouncer.log(),
                lastFailure);
    }

    /**
     * JDBC URL of the test database through PgBouncer. In transaction pooling the driver uses no named prepared
     * statements ({@code prepareThreshold=0}), as PgBouncer 1.18 does not carry them from one server connection
     * to the next.
     */
    public String jdbcUrl() {
        return "jdbc:postgresql://127.0.0.1:" + port + "/" + db.name()
                + ("transaction".equals(poolMode) ? "?prepareThreshold=0" : "");
    }

    /** A non-pooling DataSource of the test database through PgBouncer, as the test's superuser. */
    public DataSource dataSource() {
        PGSimpleDataSource dataSource = new PGSimpleDataSource();
        dataSource.setUrl(jdbcUrl());
        dataSource.setUser(db.user());
        dataSource.setPassword(db.password());
        return dataSource;
    }

    /** A connection through PgBouncer, as the test's superuser, with the given application_name. */
    public Connection connect(String applicationName) throws Exception {
        Properties properties = new Properties();
        properties.setProperty("user", db.user());
        properties.setProperty("password", db.password());
        properties.setProperty("ApplicationName", applicationName);
        return DriverManager.getConnection(jdbcUrl(), properties);
    }

    /**
     * Ends PgBouncer's server connections, as its {@code server_lifetime} or a restart of the pooler would, and
     * returns once they have exited: every backend of the test database but the caller's and those idle in a
     * transaction (which pin their server connection to a client). Meant for tests whose only other sessions go
     * through PgBouncer. PgBouncer checks a server connection before handing it out ({@code server_check_delay=0}),
     * so the next transaction of a client runs on a new backend.
     */
    public void recycleServerConnections() throws SQLException, InterruptedException {
        Object now = db.queryValue("SELECT clock_timestamp()");
        String servers = "FROM pg_stat_activity WHERE datname = current_database() AND pid <> pg_backend_pid() "
                + "AND backend_type = 'client backend' AND state IS DISTINCT FROM 'idle in transaction' "
                + "AND backend_start < ?";
        db.queryValue("SELECT count(pg_terminate_backend(pid)) " + servers, now);
        long deadline = System.nanoTime() + DEADLINE.toNanos();
        while (!Long.valueOf(0).equals(db.queryValue("SELECT count(*) " + servers, now))) {
            if (System.nanoTime() > deadline) {
                throw new IllegalStateException("PgBouncer's server connections did not exit within "
                        + DEADLINE);
            }
            Thread.sleep(10);
        }
    }

    /**
     * A Flyway callback that {@linkplain #recycleServerConnections() recycles the server connections} at
     * BEFORE_MIGRATE: after Flyway has opened its connections and before its first migration.
     */
    public Callback recycleServerConnectionsBeforeMigrate() {
        return new Callback() {

            @Override
            public boolean supports(Event event, Context context) {
                return event == Event.BEFORE_MIGRATE;
            }

            @Override
            public boolean canHandleInTransaction(Event event, Context context) {
                // run outside Flyway's transactions, so no server connection is pinned to Flyway while it runs
                return false;
            }

            @Override
            public void handle(Event event, Context context) {
                try {
                    recycleServerConnections();
                }
                catch (SQLException | InterruptedException ex) {
                    throw new IllegalStateException("could not recycle PgBouncer's server connections", ex);
                }
            }

            @Override
            public String getCallbackName() {
                return "recycle-pgbouncer-server-connections";
            }
        };
    }

    /** What PgBouncer printed so far. */
    public String log() {
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
