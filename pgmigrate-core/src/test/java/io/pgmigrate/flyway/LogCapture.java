package io.pgmigrate.flyway;

import java.util.List;
import java.util.Map;
import java.util.stream.Collectors;
import java.util.stream.Stream;

import ch.qos.logback.classic.Level;
import ch.qos.logback.classic.Logger;
import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.core.read.ListAppender;
import org.slf4j.LoggerFactory;
import org.slf4j.event.KeyValuePair;

/**
 * Captures what pgmigrate logs (logger {@code io.pgmigrate} and below) while a test runs, or what the given loggers
 * log, in one list in the order the lines were written.
 */
public final class LogCapture implements AutoCloseable {

    private final List<Logger> loggers;
    private final ListAppender<ILoggingEvent> appender = new ListAppender<>();

    public LogCapture() {
        this("io.pgmigrate");
    }

    /** @param loggers the loggers whose lines (their own and those of the loggers below) are captured */
    public LogCapture(String... loggers) {
        this.loggers = Stream.of(loggers).map((name) -> (Logger) LoggerFactory.getLogger(name)).toList();
        appender.start();
        this.loggers.forEach((logger) -> logger.addAppender(appender));
    }

    public List<ILoggingEvent> events() {
        synchronized (appender) {
            return List.copyOf(appender.list);
        }
    }

    public List<ILoggingEvent> at(Level level, String messageStart) {
        return events().stream()
            .filter((event) -> event.getLevel() == level && event.getFormattedMessage().startsWith(messageStart))
            .toList();
    }

    public static Map<String, Object> keyValues(ILoggingEvent event) {
        List<KeyValuePair> pairs = event.getKeyValuePairs() == null ? List.of() : event.getKeyValuePairs();
        return pairs.stream().collect(Collectors.toMap((pair) -> pair.key, (pair) -> pair.value, (a, b) -> b));
    }

    @Override
    public void close() {
        loggers.forEach((logger) -> logger.detachAppender(appender));
        appender.stop();
    }
}
