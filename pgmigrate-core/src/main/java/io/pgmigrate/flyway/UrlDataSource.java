package io.pgmigrate.flyway;

import java.io.PrintWriter;
import java.sql.Connection;
import java.sql.Driver;
import java.sql.DriverManager;
import java.sql.SQLException;
import java.sql.SQLFeatureNotSupportedException;
import java.util.Properties;
import java.util.ServiceLoader;
import java.util.logging.Logger;

import javax.sql.DataSource;

/**
 * The watcher's own connections, made from the URL, user and password of Flyway's configuration, never taken from a
 * connection Flyway opened. The JDBC driver is looked up with Flyway's class loader (where the Maven plugin's
 * dependencies and the command line's {@code drivers} folder are), then through {@link DriverManager}.
 */
final class UrlDataSource implements DataSource {

    private final String url;
    private final String user;
    private final String password;
    private final ClassLoader classLoader;

    UrlDataSource(String url, String user, String password, ClassLoader classLoader) {
        this.url = url;
        this.user = user;
        this.password = password;
        this.classLoader = classLoader;
    }

    @Override
    public Connection getConnection() throws SQLException {
        return getConnection(user, password);
    }

    @Override
    public Connection getConnection(String username, String secret) throws SQLException {
        Properties properties = new Properties();
        if (username != null) {
            properties.setProperty("user", username);
        }
        if (secret != null) {
            properties.setProperty("password", secret);
        }
        ClassLoader loader = classLoader != null ? classLoader : UrlDataSource.class.getClassLoader();
        for (Driver driver : ServiceLoader.load(Driver.class, loader)) {
            if (driver.acceptsURL(url)) {
                Connection connection = driver.connect(url, properties);
                if (connection != null) {
                    return connection;
                }
            }
        }
        return DriverManager.getConnection(url, properties);
    }

    @Override
    public PrintWriter getLogWriter() {
        return null;
    }

    @Override
    public void setLogWriter(PrintWriter out) {
        // no log writer
    }

    @Override
    public void setLoginTimeout(int seconds) {
        // the driver's own
    }

    @Override
    public int getLoginTimeout() {
        return 0;
    }

    @Override
    public Logger getParentLogger() throws SQLFeatureNotSupportedException {
        throw new SQLFeatureNotSupportedException();
    }

    @Override
    public <T> T unwrap(Class<T> type) throws SQLException {
        if (type.isInstance(this)) {
            return type.cast(this);
        }
        throw new SQLException("not a wrapper for " + type.getName());
    }

    @Override
    public boolean isWrapperFor(Class<?> type) {
        return type.isInstance(this);
    }

    @Override
    public String toString() {
        // never the password
        return "Flyway's URL " + url + (user == null ? "" : " as " + user);
    }
}
