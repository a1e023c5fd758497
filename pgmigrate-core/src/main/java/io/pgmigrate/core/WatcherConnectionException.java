package io.pgmigrate.core;

import java.lang.reflect.Method;
import java.lang.reflect.Modifier;
import java.util.ArrayList;
import java.util.List;

import javax.sql.DataSource;

/**
 * The watcher could not open its connection when it started, so it watches nothing. Thrown by
 * the watcher's start, before any work is watched; the message names the DataSource (a pool's name and
 * maximum size, where the pool shows them) and says what to do.
 */
public final class WatcherConnectionException extends RuntimeException {

    private static final long serialVersionUID = 1L;

    private final String dataSource;

    public WatcherConnectionException(DataSource dataSource, Exception cause) {
        super(message(describe(dataSource), cause), cause);
        this.dataSource = describe(dataSource);
    }

    /**
     * The DataSource the watcher asked, as the message names it: its class, and for a pool its name and maximum
     * size where the pool shows them, for example {@code HikariDataSource (pool "app", maximum pool size 2)}.
     */
    public String dataSource() {
        return dataSource;
    }

    private static String message(String dataSource, Exception cause) {
        String reason = String.valueOf(cause.getMessage()).strip();
        if (reason.endsWith(".")) {
            reason = reason.substring(0, reason.length() - 1);
        }
        return "pgmigrate: the watcher could not get its connection from " + dataSource + ": " + reason
                + ". It did not start, so nothing was run under it. The watcher needs a connection of its own for as "
                + "long as it runs, besides those the migration and the application hold: if that DataSource is a "
                + "pool shared with the application, give the watcher a DataSource of its own "
                + "(FlywayGuard.withWatcherDataSource) or make the pool larger; otherwise check that the database "
                + "accepts connections from it.";
    }

    /**
     * The class of the DataSource, with the pool's name and maximum size read through their usual bean getters
     * (HikariCP's {@code getPoolName()} and {@code getMaximumPoolSize()}, and their kin in other pools); without
     * depending on any pool.
     */
    static String describe(DataSource dataSource) {
        List<String> details = new ArrayList<>();
        Object name = property(dataSource, "getPoolName");
        if (name != null) {
            details.add("pool \"" + name + "\"");
        }
        for (String getter : List.of("getMaximumPoolSize", "getMaxTotal", "getMaxActive", "getMaxPoolSize")) {
            Object size = property(dataSource, getter);
            if (size instanceof Number number && number.intValue() > 0) {
                details.add("maximum pool size " + number);
                break;
            }
        }
        String type = dataSource.getClass().getName();
        return details.isEmpty() ? "DataSource " + type : "DataSource " + type + " (" + String.join(", ", details)
                + ")";
    }

    private static Object property(Object target, String getter) {
        try {
            Method method = target.getClass().getMethod(getter);
            if (method.getParameterCount() != 0 || !Modifier.isPublic(method.getDeclaringClass().getModifiers())) {
                return null;
            }
            return method.invoke(target);
        }
        catch (ReflectiveOperationException | RuntimeException | LinkageError ex) {
            return null;
        }
    }
}
