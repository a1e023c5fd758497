package io.pgmigrate.flyway.logging;

import org.slf4j.ILoggerFactory;
import org.slf4j.IMarkerFactory;
import org.slf4j.helpers.BasicMarkerFactory;
import org.slf4j.helpers.NOPMDCAdapter;
import org.slf4j.spi.MDCAdapter;
import org.slf4j.spi.SLF4JServiceProvider;

/**
 * Where pgmigrate's lines go inside Flyway's tools: Flyway's own log, so they show on the Maven console, in Gradle's
 * output or on the command line next to Flyway's lines, whatever SLF4J the tool has. Registered only in the
 * pgmigrate-flyway jar, for the SLF4J API relocated into it.
 */
public final class FlywayLogProvider implements SLF4JServiceProvider {

    private final ILoggerFactory loggers = FlywayLogger::new;
    private final IMarkerFactory markers = new BasicMarkerFactory();
    private final MDCAdapter mdc = new NOPMDCAdapter();

    @Override
    public ILoggerFactory getLoggerFactory() {
        return loggers;
    }

    @Override
    public IMarkerFactory getMarkerFactory() {
        return markers;
    }

    @Override
    public MDCAdapter getMDCAdapter() {
        return mdc;
    }

    @Override
    public String getRequestedApiVersion() {
        return "2.0.99";
    }

    @Override
    public void initialize() {
        // nothing to set up: Flyway's log is there once Flyway runs
    }
}
