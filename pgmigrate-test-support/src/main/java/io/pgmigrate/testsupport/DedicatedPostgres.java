package io.pgmigrate.testsupport;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.ServerSocket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import java.util.Comparator;
import java.util.stream.Stream;

import io.zonky.test.db.postgres.embedded.EmbeddedPostgres;

/**
 * An embedded PostgreSQL of one test's own, which the test may {@linkplain #stop() stop} and
 * {@linkplain #start() start} again: for outages and restarts, which the {@linkplain PostgresServer#shared()
 * shared server} must never see.
 * <p>
 * The data directory and the port stay the same across restarts, so connection details taken before a stop
 * point at the same server, with the same databases and data, after the next start. Stopping is PostgreSQL's
 * fast shutdown ({@code pg_ctl stop -m fast}), what a restart by an operator or a failover does: every session
 * is terminated, open transactions are rolled back. {@link #close()} stops the server and deletes its data.
 */
public final class DedicatedPostgres implements AutoCloseable {

    private final Path dataDirectory;
    private final int port;
    private final PostgresServer server;
    private EmbeddedPostgres running;

    private DedicatedPostgres(Path dataDirectory, int port) {
        this.dataDirectory = dataDirectory;
        this.port = port;
        this.server = new PostgresServer("localhost", port, "postgres", "postgres",
                "dedicated embedded PostgreSQL on port " + port);
    }

    /** Creates a new server in a temporary data directory, on a free port, and starts it. */
    public static DedicatedPostgres startNew() {
        try {
            DedicatedPostgres postgres = new DedicatedPostgres(Files.createTempDirectory("pgmigrate-dedicated-pg"),
                    freePort());
            postgres.start();
            return postgres;
        }
        catch (IOException ex) {
            throw new UncheckedIOException("Could not create a data directory for a dedicated PostgreSQL", ex);
        }
    }

    /** Starts the server, on the same port and data directory as before; returns once it accepts connections. */
    public synchronized DedicatedPostgres start() {
        if (running != null) {
            throw new IllegalStateException(server + " is already running");
        }
        try {
            running = EmbeddedPostgres.builder()
                .setDataDirectory(dataDirectory)
                .setCleanDataDirectory(false)
                .setPort(port)
                .setPGStartupWait(Duration.ofSeconds(60))
                .start();
            return this;
        }
        catch (IOException ex) {
            throw new UncheckedIOException("Could not start " + server, ex);
        }
    }

    /** Stops the server with a fast shutdown: every session is terminated. The data stays. */
    public synchronized void stop() {
        if (running == null) {
            return;
        }
        try {
            running.close();
        }
        catch (IOException ex) {
            throw new UncheckedIOException("Could not stop " + server, ex);
        }
        finally {
            running = null;
        }
    }

    /** Whether the server is started. */
    public synchronized boolean isRunning() {
        return running != null;
    }

    /** The server's connection details; valid across restarts. */
    public PostgresServer server() {
        return server;
    }

    /** The port the server listens on, the same after every start. */
    public int port() {
        return port;
    }

    /**
     * Creates a database on this server, for a test to use like the {@link TestDatabase} of
     * {@link PostgresTest}; it goes away with the server's data in {@link #close()}.
     */
    public TestDatabase createDatabase(String name) throws SQLException {
        return TestDatabase.create(server, name);
    }

    /** Runs statements on a short-lived superuser connection to the maintenance database. */
    public void execute(String... statements) throws SQLException {
        try (Connection connection = server.connectAdmin(); Statement statement = connection.createStatement()) {
            for (String sql : statements) {
                statement.execute(sql);
            }
        }
    }

    /** Stops the server and deletes its data directory. */
    @Override
    public void close() {
        stop();
        try (Stream<Path> files = Files.walk(dataDirectory)) {
            files.sorted(Comparator.reverseOrder()).forEach((file) -> file.toFile().delete());
        }
        catch (IOException ex) {
            // a temporary directory: the operating system cleans it up eventually
        }
    }

    private static int freePort() throws IOException {
        try (ServerSocket socket = new ServerSocket(0)) {
            socket.setReuseAddress(true);
            return socket.getLocalPort();
        }
    }

    @Override
    public String toString() {
        return server.toString();
    }
}
