package io.pgmigrate.flyway.logging;

import org.flywaydb.core.api.logging.Log;
import org.flywaydb.core.api.logging.LogFactory;
import org.slf4j.Marker;
import org.slf4j.event.Level;
import org.slf4j.helpers.LegacyAbstractLogger;
import org.slf4j.helpers.MessageFormatter;

/**
 * One of pgmigrate's loggers, writing to Flyway's log: INFO, WARN and ERROR as Flyway writes its own; DEBUG and TRACE
 * are left out (they are for pgmigrate's developers, not for a tool's console). The key-value pairs are left out too:
 * each line carries them in its text.
 */
final class FlywayLogger extends LegacyAbstractLogger {

    private static final long serialVersionUID = 1L;

    FlywayLogger(String name) {
        this.name = name;
    }

    @Override
    public boolean isTraceEnabled() {
        return false;
    }

    @Override
    public boolean isDebugEnabled() {
        return false;
    }

    @Override
    public boolean isInfoEnabled() {
        return true;
    }

    @Override
    public boolean isWarnEnabled() {
        return true;
    }

    @Override
    public boolean isErrorEnabled() {
        return true;
    }

    @Override
    protected String getFullyQualifiedCallerName() {
        return null;
    }

    @Override
    protected void handleNormalizedLoggingCall(Level level, Marker marker, String pattern, Object[] arguments,
            Throwable throwable) {
        // asked at every line: Flyway sets its log up when a command starts
        Log log = LogFactory.getLog(FlywayLogger.class);
        String message = MessageFormatter.basicArrayFormat(pattern, arguments);
        switch (level) {
            case ERROR -> {
                if (throwable instanceof Exception exception) {
                    log.error(message, exception);
                }
                else {
                    log.error(withCause(message, throwable));
                }
            }
            case WARN -> log.warn(withCause(message, throwable));
            case INFO -> log.info(withCause(message, throwable));
            default -> {
                // DEBUG and TRACE are not enabled
            }
        }
    }

    private static String withCause(String message, Throwable throwable) {
        return throwable == null ? message : message + ": " + throwable;
    }
}
