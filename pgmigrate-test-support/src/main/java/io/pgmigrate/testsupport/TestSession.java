package io.pgmigrate.testsupport;

import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * One PostgreSQL session a test drives: a blocker, the "application", or the migration itself.
 * Statements run synchronously, or on a thread of their own with {@link #executeAsync}.
 */
public final class TestSession implements AutoCloseable {

    private static final AtomicInteger threads = new AtomicInteger();

    private final Connection connection;
    private final TestDatabase database;
    private final int pid;

    TestSession(Connection connection, TestDatabase database) throws SQLException {
        this.connection = connection;
        this.database = database;
        try (Statement statement = connection.createStatement();
                ResultSet rows = statement.executeQuery("SELECT pg_backend_pid()")) {
            rows.next();
            this.pid = rows.getInt(1);
        }
    }

    /** The PostgreSQL backend pid of this session. */
    public int pid() {
        return pid;
    }

    /** The JDBC connection, for code under test that takes one. */
    public Connection connection() {
        return connection;
    }

    /** Opens a transaction: following statements run in it until commit or rollback. */
    public TestSession begin() throws SQLException {
        connection.setAutoCommit(false);
        return this;
    }

    /** Runs the statements, in the open transaction if there is one. */
    public TestSession execute(String... statements) throws SQLException {
        try (Statement statement = connection.createStatement()) {
            for (String sql : statements) {
                statement.execute(sql);
            }
        }
        return this;
    }

    /** The first column of the first row of a query. */
    public Object queryValue(String sql) throws SQLException {
        try (Statement statement = connection.createStatement(); ResultSet rows = statement.executeQuery(sql)) {
            return rows.next() ? rows.getObject(1) : null;
        }
    }

    /** Runs a statement on a thread of its own; the future completes when PostgreSQL answers. */
    public CompletableFuture<Void> executeAsync(String sql) {
        CompletableFuture<Void> result = new CompletableFuture<>();
        Thread thread = new Thread(() -> {
            try (Statement statement = connection.createStatement()) {
                statement.execute(sql);
                result.complete(null);
            }
            catch (Throwable ex) {
                result.completeExceptionally(ex);
            }
        }, "test-session-" + pid + "-" + threads.incrementAndGet());
        thread.setDaemon(true);
        thread.start();
        return result;
    }

    /** Commits the open transaction and goes back to autocommit. */
    public void commit() throws SQLException {
        connection.commit();
        connection.setAutoCommit(true);
    }

    /** Rolls the open transaction back and goes back to autocommit. */
    public void rollback() throws SQLException {
        connection.rollback();
        connection.setAutoCommit(true);
    }

    /** Whether PostgreSQL still has this backend. */
    public boolean isAlive() throws SQLException {
        return database.isAlive(pid);
    }

    /** Whether this session waits for a lock right now, as pg_stat_activity reports it. */
    public boolean isWaitingForLock() throws SQLException {
        return Boolean.TRUE.equals(database.queryValue(
                "SELECT wait_event_type = 'Lock' FROM pg_stat_activity WHERE pid = ?", pid));
    }

    void closeQuietly() {
        try {
            connection.close();
        }
        catch (SQLException ex) {
            // already gone: terminated by the test or by the code under test
        }
    }

    @Override
    public void close() {
        closeQuietly();
    }

    @Override
    public String toString() {
        return "session pid " + pid;
    }
}
