package io.pgmigrate.core.internal;

import java.lang.reflect.Method;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.SQLException;

/**
 * Prepares the watcher's statements so that PostgreSQL keeps them parsed from their first run on.
 * <p>
 * The PostgreSQL JDBC driver (pgjdbc) sends a statement as an unnamed one, parsed again on every run, until the
 * same SQL has run {@code prepareThreshold} times (5 by default) on the connection. The watcher runs each of its
 * statements once when it starts ({@link Watcher#start()}), so that its first real poll and its first signal
 * find them parsed: that needs a threshold of 1. A threshold the user turned off ({@code prepareThreshold=0}, as
 * behind a transaction pooler that cannot keep prepared statements) is left as it is, and so is any other driver.
 * The driver is reached by reflection: the core does not depend on it.
 */
final class Statements {

    private static final String PG_STATEMENT = "org.postgresql.PGStatement";

    /** pgjdbc's statement interface where pgmigrate's class loader sees the driver, else {@code null}. */
    private static final Class<?> PG_STATEMENT_TYPE = load(Statements.class.getClassLoader());

    private Statements() {
    }

    /** A prepared statement for the SQL, kept parsed by the server from its first run where the driver can. */
    static PreparedStatement prepare(Connection connection, String sql) throws SQLException {
        PreparedStatement statement = connection.prepareStatement(sql);
        try {
            parsedFromFirstRun(statement);
        }
        catch (SQLException | RuntimeException ex) {
            statement.close();
            throw ex;
        }
        return statement;
    }

    private static void parsedFromFirstRun(PreparedStatement statement) throws SQLException {
        Class<?> type = pgStatement(statement);
        if (type == null || !statement.isWrapperFor(type)) {
            return;
        }
        Object pg = statement.unwrap(type);
        try {
            Method threshold = type.getMethod("getPrepareThreshold");
            if (((Integer) threshold.invoke(pg)) > 1) {
                type.getMethod("setPrepareThreshold", int.class).invoke(pg, 1);
            }
        }
        catch (ReflectiveOperationException ex) {
            // another version of the driver: its own threshold stays, which only costs a parse per run
        }
    }

    private static Class<?> pgStatement(PreparedStatement statement) {
        return PG_STATEMENT_TYPE != null ? PG_STATEMENT_TYPE : load(statement.getClass().getClassLoader());
    }

    private static Class<?> load(ClassLoader loader) {
        try {
            return Class.forName(PG_STATEMENT, false, loader);
        }
        catch (ClassNotFoundException | LinkageError ex) {
            return null;
        }
    }
}
