package io.pgmigrate.core.internal;

import java.io.PrintWriter;
import java.lang.reflect.InvocationHandler;
import java.lang.reflect.InvocationTargetException;
import java.lang.reflect.Method;
import java.lang.reflect.Proxy;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.SQLFeatureNotSupportedException;
import java.sql.Statement;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.logging.Logger;

import javax.sql.DataSource;


/**
 * The DataSource a migration tool uses under the guard ({@link GuardedRun#dataSource}). Every connection it hands out is registered with the run (so
 * the watcher never acts on it) and prepared with the run's session settings; when Flyway closes it, the
 * settings and the autocommit mode are put back before it goes back to the pool, and the run forgets it: from
 * then on it may be an application's session like any other. Nothing of the guard stays on a connection the
 * application's pool gets back.
 */
final class GuardedDataSource implements DataSource {

    /** What the guard's connections add to {@link Connection}. */
    interface GuardedConnection {

        /** The PostgreSQL backend pid of the connection. */
        int backendPid();
    }

    private static final org.slf4j.Logger log = LogLines.logger("io.pgmigrate");

    private final DataSource delegate;
    private final Map<String, String> session;
    private final Set<String> optional;
    private final GuardedRun run;

    /**
     * @param session the settings of every connection, applied at session level
     * @param optional those of the settings that are left out where the server does not have them or refuses them
     */
    GuardedDataSource(DataSource delegate, Map<String, String> session, Set<String> optional, GuardedRun run) {
        this.delegate = delegate;
        this.session = session;
        this.optional = optional;
        this.run = run;
    }

    @Override
    public Connection getConnection() throws SQLException {
        return guard(delegate.getConnection());
    }

    @Override
    public Connection getConnection(String username, String password) throws SQLException {
        return guard(delegate.getConnection(username, password));
    }

    private Connection guard(Connection connection) throws SQLException {
        int pid = 0;
        try {
            pid = GuardedRun.backendPid(connection);
            run.connectionOpened(pid);
            boolean autoCommit = connection.getAutoCommit();
            // session-level settings, committed at once: a later rollback must not undo them
            connection.setAutoCommit(true);
            SessionSettings settings = SessionSettings.apply(connection, session, optional);
            connection.setAutoCommit(autoCommit);
            log.atDebug().addKeyValue("pid", pid).log("pgmigrate: prepared a connection of the migration tool: pid={}", pid);
            return (Connection) Proxy.newProxyInstance(GuardedDataSource.class.getClassLoader(),
                    new Class<?>[] { Connection.class, GuardedConnection.class },
                    new Handler(connection, pid, settings, autoCommit, run));
        }
        catch (SQLException | RuntimeException ex) {
            try {
                connection.close();
            }
            finally {
                if (pid != 0) {
                    run.connectionClosed(pid);
                }
            }
            throw ex;
        }
    }


    /**
     * A statement of a migration connection: before it is sent, the run's watcher is told to look again within
     * milliseconds ({@link GuardedRun#statementStarting}), so a lock wait that starts in a later statement of a step
     * is seen as soon as one that starts with the step, whatever the tool (Flyway, Liquibase) and without a callback
     * per statement.
     */
    private static Statement watched(Statement statement, Class<?> type, GuardedRun run) {
        Class<?> proxied = Statement.class.isAssignableFrom(type) ? type : Statement.class;
        return (Statement) Proxy.newProxyInstance(GuardedDataSource.class.getClassLoader(), new Class<?>[] { proxied },
                (proxy, method, args) -> {
                    if (method.getName().startsWith("execute")) {
                        run.statementStarting();
                    }
                    try {
                        return method.invoke(statement, args);
                    }
                    catch (InvocationTargetException ex) {
                        throw ex.getCause();
                    }
                });
    }

    /**
     * Passes everything to the real connection, except close, which restores it first and, once it is closed (back
     * in its pool), ends its protection.
     */
    private static final class Handler implements InvocationHandler {

        private final Connection connection;
        private final int pid;
        private final SessionSettings settings;
        private final boolean autoCommit;
        private final GuardedRun run;
        private final AtomicBoolean closed = new AtomicBoolean();

        Handler(Connection connection, int pid, SessionSettings settings, boolean autoCommit, GuardedRun run) {
            this.connection = connection;
            this.pid = pid;
            this.settings = settings;
            this.autoCommit = autoCommit;
            this.run = run;
        }

        @Override
        public Object invoke(Object proxy, Method method, Object[] args) throws Throwable {
            switch (method.getName()) {
                case "backendPid":
                    return pid;
                case "close":
                    close();
                    return null;
                case "isClosed":
                    return closed.get() || connection.isClosed();
                case "equals":
                    return proxy == args[0];
                case "hashCode":
                    return System.identityHashCode(proxy);
                case "toString":
                    return "pgmigrate migration connection pid " + pid + " (" + connection + ")";
                default:
                    Object result;
                    try {
                        result = method.invoke(connection, args);
                    }
                    catch (InvocationTargetException ex) {
                        throw ex.getCause();
                    }
                    return (result instanceof Statement statement) ? watched(statement, method.getReturnType(), run)
                            : result;
            }
        }

        private void close() throws SQLException {
            if (!closed.compareAndSet(false, true)) {
                return;
            }
            try {
                if (!connection.isClosed()) {
                    if (!connection.getAutoCommit()) {
                        connection.rollback();
                    }
                    connection.setAutoCommit(true);
                    settings.restore();
                    connection.setAutoCommit(autoCommit);
                }
            }
            catch (SQLException ex) {
                log.atWarn()
                    .addKeyValue("pid", pid)
                    .addKeyValue("error", String.valueOf(ex.getMessage()))
                    .log("pgmigrate: could not restore the settings of a connection of the migration tool before closing it: pid={} "
                            + "error={}", pid, ex.getMessage());
            }
            finally {
                try {
                    connection.close();
                }
                finally {
                    // only now: until the connection is back, it may still hold what Flyway did with it
                    run.connectionClosed(pid);
                }
            }
        }
    }

    @Override
    public PrintWriter getLogWriter() throws SQLException {
        return delegate.getLogWriter();
    }

    @Override
    public void setLogWriter(PrintWriter out) throws SQLException {
        delegate.setLogWriter(out);
    }

    @Override
    public void setLoginTimeout(int seconds) throws SQLException {
        delegate.setLoginTimeout(seconds);
    }

    @Override
    public int getLoginTimeout() throws SQLException {
        return delegate.getLoginTimeout();
    }

    @Override
    public Logger getParentLogger() throws SQLFeatureNotSupportedException {
        return delegate.getParentLogger();
    }

    @Override
    public <T> T unwrap(Class<T> type) throws SQLException {
        return type.isInstance(this) ? type.cast(this) : delegate.unwrap(type);
    }

    @Override
    public boolean isWrapperFor(Class<?> type) throws SQLException {
        return type.isInstance(this) || delegate.isWrapperFor(type);
    }
}
