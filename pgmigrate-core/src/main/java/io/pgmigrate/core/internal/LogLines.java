package io.pgmigrate.core.internal;

import java.lang.reflect.InvocationHandler;
import java.lang.reflect.InvocationTargetException;
import java.lang.reflect.Method;
import java.lang.reflect.Proxy;
import java.util.Set;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.slf4j.spi.LoggingEventBuilder;

/**
 * The loggers of pgmigrate's operator lines. Each line carries its details twice over: as {@code key=value} in the
 * text, for any console, and as SLF4J key-value pairs, for structured (JSON) logs. Logback and Log4j 2 keep the
 * pairs apart from the text (their default patterns do not print them), so a line reads once there. Plain
 * bindings such as {@code slf4j-simple}, Maven's console or {@code java.util.logging} print the pairs before the
 * text, so there the pairs are left out and the line reads once too.
 */
public final class LogLines {

    /** Methods of {@link Logger} that start a fluent event. */
    private static final Set<String> EVENT_STARTS = Set.of("atLevel", "atTrace", "atDebug", "atInfo", "atWarn",
            "atError", "makeLoggingEventBuilder");

    private static final boolean KEY_VALUES_APART = keepsKeyValuesApart(
            LoggerFactory.getILoggerFactory().getClass().getName());

    private LogLines() {
    }

    /**
     * A logger for operator lines, with the given name.
     * @param name the logger's name, for example {@code io.pgmigrate}
     * @return the binding's logger, or where the binding prints key-value pairs into the text, the same logger
     *         without them
     */
    public static Logger logger(String name) {
        Logger logger = LoggerFactory.getLogger(name);
        return KEY_VALUES_APART ? logger : textOnly(logger);
    }

    /** Whether the SLF4J binding with this logger factory keeps key-value pairs out of the text it writes. */
    static boolean keepsKeyValuesApart(String loggerFactoryClass) {
        return loggerFactoryClass.startsWith("ch.qos.logback.") || loggerFactoryClass.startsWith("org.apache.logging.");
    }

    private static Logger textOnly(Logger logger) {
        return proxy(Logger.class, (proxy, method, args) -> {
            Object result = invoke(method, logger, args);
            return (EVENT_STARTS.contains(method.getName()) && result instanceof LoggingEventBuilder builder)
                    ? withoutKeyValues(builder) : result;
        });
    }

    private static LoggingEventBuilder withoutKeyValues(LoggingEventBuilder builder) {
        return proxy(LoggingEventBuilder.class, (proxy, method, args) -> {
            if (method.getName().equals("addKeyValue")) {
                return proxy;
            }
            Object result = invoke(method, builder, args);
            return (result == builder) ? proxy : result;
        });
    }

    private static Object invoke(Method method, Object target, Object[] args) throws Throwable {
        try {
            return method.invoke(target, args);
        }
        catch (InvocationTargetException ex) {
            throw ex.getCause();
        }
    }

    private static <T> T proxy(Class<T> type, InvocationHandler handler) {
        return type.cast(Proxy.newProxyInstance(LogLines.class.getClassLoader(), new Class<?>[] { type }, handler));
    }
}
