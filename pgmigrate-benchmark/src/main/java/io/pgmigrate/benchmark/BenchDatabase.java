package io.pgmigrate.benchmark;

import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;

import javax.sql.DataSource;

import io.pgmigrate.testsupport.PostgresServer;
import org.postgresql.ds.PGSimpleDataSource;

/**
 * The benchmark's own database on a PostgreSQL server: dropped and created anew when the runner starts,
 * dropped when it ends. Every scenario works in schemas of its own inside it.
 */
public final class BenchDatabase implements AutoCloseable {

    private static final String NAME = "pgmigrate_bench";

    private final PostgresServer server;

    private BenchDatabase(PostgresServer server) {
        this.server = server;
    }

    /** Creates the database anew on the given server. */
    public static BenchDatabase create(PostgresServer server) throws SQLException {
        try (Connection admin = server.connectAdmin(); Statement statement = admin.createStatement()) {
            statement.execute("DROP DATABASE IF EXISTS " + NAME + " WITH (FORCE)");
            statement.execute("CREATE DATABASE " + NAME);
        }
        return new BenchDatabase(server);
    }

    /** The server, as {@code PostgresServer} describes it. */
    public PostgresServer server() {
        return server;
    }

    /** The database's name. */
    public String name() {
        return NAME;
    }

    /** A new connection to the database with the given application_name. */
    public Connection connect(String applicationName) throws SQLException {
        return server.connect(NAME, server.user(), server.password(), applicationName);
    }

    /** A non-pooling DataSource of the database. */
    public DataSource dataSource() {
        PGSimpleDataSource dataSource = new PGSimpleDataSource();
        dataSource.setUrl(server.jdbcUrl(NAME));
        dataSource.setUser(server.user());
        dataSource.setPassword(server.password());
        return dataSource;
    }

    /** Runs statements on a short-lived connection. */
    public void execute(String... statements) throws SQLException {
        try (Connection connection = connect("bench-setup");
                Statement statement = connection.createStatement()) {
            for (String sql : statements) {
                statement.execute(sql);
            }
        }
    }

    /** The first column of the first row, from a short-lived connection. */
    public Object queryValue(String sql, Object... parameters) throws SQLException {
        try (Connection connection = connect("bench-setup");
                PreparedStatement statement = connection.prepareStatement(sql)) {
            for (int i = 0; i < parameters.length; i++) {
                statement.setObject(i + 1, parameters[i]);
            }
            try (ResultSet rows = statement.executeQuery()) {
                return rows.next() ? rows.getObject(1) : null;
            }
        }
    }

    /** Terminates every other session of the database: what a failed run may have left behind. */
    public void terminateOthers() throws SQLException {
        execute("SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                + "WHERE datname = current_database() AND pid <> pg_backend_pid()");
    }

    /** The PostgreSQL version, for the report. */
    public String version() throws SQLException {
        return String.valueOf(queryValue("SHOW server_version"));
    }

    /** Drops the database. */
    @Override
    public void close() throws SQLException {
        try (Connection admin = server.connectAdmin(); Statement statement = admin.createStatement()) {
            statement.execute("DROP DATABASE IF EXISTS " + NAME + " WITH (FORCE)");
        }
    }
}
