package io.pgmigrate.testsupport;

import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;

import javax.sql.DataSource;

import org.postgresql.ds.PGSimpleDataSource;

/**
 * A database of its own for one test class, on the shared {@link PostgresServer}.
 * Sessions opened through it are closed after each test; the database is dropped after the class.
 */
public final class TestDatabase {

    private final PostgresServer server;
    private final String name;
    private final List<TestSession> sessions = new CopyOnWriteArrayList<>();
    private final List<String> roles = new CopyOnWriteArrayList<>();

    TestDatabase(PostgresServer server, String name) {
        this.server = server;
        this.name = name;
    }

    /** The database's name. */
    public String name() {
        return name;
    }

    /** The server the database lives on. */
    public PostgresServer server() {
        return server;
    }

    /** JDBC URL of this database. */
    public String jdbcUrl() {
        return server.jdbcUrl(name);
    }

    /** The superuser the tests connect as. */
    public String user() {
        return server.user();
    }

    /** Password of {@link #user()}. */
    public String password() {
        return server.password();
    }

    /** A non-pooling DataSource for this database, as the superuser. */
    public DataSource dataSource() {
        return dataSource(server.user(), server.password());
    }

    /** A non-pooling DataSource for this database, as the given role. */
    public DataSource dataSource(String role, String rolePassword) {
        PGSimpleDataSource dataSource = new PGSimpleDataSource();
        dataSource.setUrl(jdbcUrl());
        dataSource.setUser(role);
        dataSource.setPassword(rolePassword);
        return dataSource;
    }

    /** A new superuser session with the given application_name; closed after the test. */
    public TestSession session(String applicationName) throws SQLException {
        return track(new TestSession(server.connect(name, server.user(), server.password(), applicationName), this));
    }

    /** A new session as the given role (see {@link #createRole}); closed after the test. */
    public TestSession sessionAs(String role, String applicationName) throws SQLException {
        return track(new TestSession(server.connect(name, role, role, applicationName), this));
    }

    /** A new superuser session on another database of the same server; closed after the test. */
    public TestSession sessionOn(String database, String applicationName) throws SQLException {
        return track(new TestSession(server.connect(database, server.user(), server.password(), applicationName),
                this));
    }

    private TestSession track(TestSession session) {
        sessions.add(session);
        return session;
    }

    /** Runs statements on a short-lived superuser connection. */
    public void execute(String... statements) throws SQLException {
        try (Connection connection = server.connect(name, server.user(), server.password(), "test-setup");
                Statement statement = connection.createStatement()) {
            for (String sql : statements) {
                statement.execute(sql);
            }
        }
    }

    /** The first column of the first row of a query run on a short-lived superuser connection. */
    public Object queryValue(String sql, Object... parameters) throws SQLException {
        try (Connection connection = server.connect(name, server.user(), server.password(), "test-setup");
                PreparedStatement statement = connection.prepareStatement(sql)) {
            for (int i = 0; i < parameters.length; i++) {
                statement.setObject(i + 1, parameters[i]);
            }
            try (ResultSet rows = statement.executeQuery()) {
                return rows.next() ? rows.getObject(1) : null;
            }
        }
    }

    /** Whether a backend with this pid is still connected to the server. */
    public boolean isAlive(int pid) throws SQLException {
        return Boolean.TRUE.equals(queryValue("SELECT EXISTS (SELECT 1 FROM pg_stat_activity WHERE pid = ?)", pid));
    }

    /** The pids of the sessions of this database with the given application_name. */
    public List<Integer> pidsOf(String applicationName) throws SQLException {
        List<Integer> pids = new ArrayList<>();
        try (Connection connection = server.connect(name, server.user(), server.password(), "test-setup");
                PreparedStatement statement = connection.prepareStatement(
                        "SELECT pid FROM pg_stat_activity WHERE application_name = ? ORDER BY pid")) {
            statement.setString(1, applicationName);
            try (ResultSet rows = statement.executeQuery()) {
                while (rows.next()) {
                    pids.add(rows.getInt(1));
                }
            }
        }
        return pids;
    }

    /**
     * Creates a login role whose password is its name; it is dropped after the class.
     * Role names are server-wide, so the name is prefixed with this database's name.
     */
    public String createRole(String shortName, String... attributes) throws SQLException {
        String role = name + "_" + shortName;
        execute("CREATE ROLE " + role + " LOGIN PASSWORD '" + role + "' " + String.join(" ", attributes),
                "GRANT ALL ON DATABASE " + name + " TO " + role,
                "GRANT ALL ON SCHEMA public TO " + role);
        roles.add(role);
        return role;
    }

    /** Creates another database on the same server, dropped after the class. */
    public String createDatabase(String shortName) throws SQLException {
        String database = name + "_" + shortName;
        try (Connection admin = server.connectAdmin(); Statement statement = admin.createStatement()) {
            statement.execute("CREATE DATABASE " + database);
        }
        roles.add("database:" + database);
        return database;
    }

    void afterEach() throws SQLException {
        for (TestSession session : sessions) {
            session.closeQuietly();
        }
        sessions.clear();
        try (Connection admin = server.connectAdmin(); PreparedStatement statement = admin.prepareStatement(
                "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname LIKE ? AND pid <> pg_backend_pid()")) {
            statement.setString(1, name + "%");
            statement.execute();
            try (Statement rollback = admin.createStatement();
                    ResultSet prepared = rollback.executeQuery(
                            "SELECT gid FROM pg_prepared_xacts WHERE database LIKE '" + name + "%'")) {
                List<String> gids = new ArrayList<>();
                while (prepared.next()) {
                    gids.add(prepared.getString(1));
                }
                for (String gid : gids) {
                    try (Connection owner = server.connect(databaseOfPrepared(admin, gid), server.user(),
                            server.password(), "test-setup"); Statement end = owner.createStatement()) {
                        end.execute("ROLLBACK PREPARED '" + gid.replace("'", "''") + "'");
                    }
                }
            }
        }
    }

    private static String databaseOfPrepared(Connection admin, String gid) throws SQLException {
        try (PreparedStatement statement = admin.prepareStatement(
                "SELECT database FROM pg_prepared_xacts WHERE gid = ?")) {
            statement.setString(1, gid);
            try (ResultSet rows = statement.executeQuery()) {
                rows.next();
                return rows.getString(1);
            }
        }
    }

    void drop() throws SQLException {
        afterEach();
        try (Connection admin = server.connectAdmin(); Statement statement = admin.createStatement()) {
            for (String role : roles) {
                if (role.startsWith("database:")) {
                    statement.execute("DROP DATABASE IF EXISTS " + role.substring("database:".length())
                            + " WITH (FORCE)");
                }
            }
            statement.execute("DROP DATABASE IF EXISTS " + name + " WITH (FORCE)");
            for (String role : roles) {
                if (!role.startsWith("database:")) {
                    statement.execute("DROP ROLE IF EXISTS " + role);
                }
            }
        }
    }

    static TestDatabase create(PostgresServer server, String name) throws SQLException {
        try (Connection admin = server.connectAdmin(); Statement statement = admin.createStatement()) {
            statement.execute("DROP DATABASE IF EXISTS " + name + " WITH (FORCE)");
            statement.execute("CREATE DATABASE " + name);
        }
        return new TestDatabase(server, name);
    }

    @Override
    public String toString() {
        return name + " on " + server;
    }
}
