package io.pgmigrate.core.internal;

import java.time.Duration;
import java.util.List;

import io.pgmigrate.core.Blocker;
import io.pgmigrate.core.BlockerReport;
import io.pgmigrate.core.GuardListener;
import io.pgmigrate.core.WaitCancellation;
import org.slf4j.Logger;
import org.slf4j.event.Level;
import org.slf4j.spi.LoggingEventBuilder;

/**
 * Writes the watcher's events as operator log lines: the fact first, then {@code key=value} details, which
 * are also attached as SLF4J key-value pairs so structured (JSON) logs get them as fields.
 * A blocker acted on (terminated, cancelled, shown) or one that could not be acted on gives one WARN line.
 */
final class LoggingListener implements GuardListener {

    private static final Logger log = LogLines.logger("io.pgmigrate");

    /** The message of the last watcher failure logged; watcher thread only. */
    private String lastFailure;


    @Override
    public void blockersDetected(List<Blocker> blockers) {
        log.debug("pgmigrate: {} blocker(s) found: {}", blockers.size(), blockers);
    }

    @Override
    public void blockerHandled(BlockerReport report) {
        Blocker blocker = report.blocker();
        String fact = switch (report.outcome()) {
            case TERMINATED -> "Terminated a session blocking " + report.blockedWork();
            case CANCELED -> "Cancelled the statement of a session blocking " + report.blockedWork();
            case SHOWN -> "A session blocks " + report.blockedWork();
            case IGNORED -> "Ignoring a session blocking " + report.blockedWork();
            case CUSTOM -> "Left to the custom blocking action: a session blocking " + report.blockedWork();
            case TOO_YOUNG -> "Not yet acting on a session blocking " + report.blockedWork();
            case EXCLUDED -> "Not acting on an excluded session blocking " + report.blockedWork();
            case PROTECTED -> "Not acting on a protected session blocking " + report.blockedWork();
            case NOT_PERMITTED -> "Cannot signal a session blocking " + report.blockedWork();
            case UNENDABLE -> "A prepared transaction blocks " + report.blockedWork();
            case SYSTEM_PROCESS -> "Not acting on a PostgreSQL process blocking " + report.blockedWork();
            case SNAPSHOT_WAIT -> report.blockedWork() + " waits for an older transaction to end; not acting on it";
            case GONE -> "A session stopped blocking " + report.blockedWork() + " before it was signalled";
        };
        Level level = switch (report.outcome()) {
            case TERMINATED, CANCELED, SHOWN, NOT_PERMITTED, UNENDABLE -> Level.WARN;
            case GONE -> Level.DEBUG;
            default -> Level.INFO;
        };
        LoggingEventBuilder event = log.atLevel(level);
        StringBuilder message = new StringBuilder("pgmigrate: ").append(fact).append(':');
        detail(event, message, "outcome", report.outcome().name().toLowerCase(java.util.Locale.ROOT));
        BlockerText.fields(blocker).forEach((key, value) -> detail(event, message, key, value));
        if (!report.detail().isEmpty()) {
            detail(event, message, "reason", report.detail());
        }
        event.log(message.toString());
    }

    @Override
    public void waitCancelled(WaitCancellation event) {
        LoggingEventBuilder line = log.atWarn();
        StringBuilder message = new StringBuilder("pgmigrate: ");
        if (event.reason() == WaitCancellation.Reason.APPLICATION_STALL) {
            message.append("Cancelled the lock wait of ").append(event.work())
                .append(": the application queued behind it for longer than max-application-stall while its "
                        + "blockers kept their locks:");
        }
        else {
            message.append("Cancelled the lock wait of ").append(event.work())
                .append(": the thread running it was interrupted:");
        }
        detail(line, message, "reason", event.reason().name().toLowerCase(java.util.Locale.ROOT));
        detail(line, message, "pid", event.pid());
        detail(line, message, "object", event.waitingFor());
        detail(line, message, "queued_sessions", event.queuedSessions());
        detail(line, message, "queued_for", seconds(event.applicationQueued()));
        detail(line, message, "max_application_stall", seconds(event.maxApplicationStall()));
        detail(line, message, "kept", kept(event.keptBlockers()));
        line.log(message.toString());
    }

    /** The blockers kept, each as {@code pid 123 excluded (why)}, separated by {@code ; }. */
    private static String kept(List<BlockerReport> reports) {
        if (reports.isEmpty()) {
            return "none (the sessions signalled still held their locks)";
        }
        StringBuilder text = new StringBuilder();
        for (BlockerReport report : reports) {
            if (!text.isEmpty()) {
                text.append("; ");
            }
            text.append(report.blocker()).append(' ')
                .append(report.outcome().name().toLowerCase(java.util.Locale.ROOT));
            if (report.blocker().applicationName() != null && !report.blocker().applicationName().isEmpty()) {
                text.append(" application=").append(report.blocker().applicationName());
            }
            if (!report.detail().isEmpty()) {
                text.append(" (").append(report.detail()).append(')');
            }
        }
        return text.toString();
    }

    @Override
    public void watcherFailed(Exception error) {
        // a failure that repeats (a revoked privilege, a server that is down) is a WARN once, then DEBUG
        String message = String.valueOf(error.getMessage());
        boolean repeated = message.equals(lastFailure);
        lastFailure = message;
        LoggingEventBuilder event = repeated ? log.atDebug() : log.atWarn().setCause(error);
        event.addKeyValue("error", message)
            .log("pgmigrate: watcher poll failed; it retries with a new connection, backing off while it keeps "
                    + "failing: error={}", message);
    }

    private static void detail(LoggingEventBuilder event, StringBuilder message, String key, Object value) {
        if (value == null || "".equals(value)) {
            return;
        }
        // names from the catalog may hold line breaks (quoted identifiers): one event must stay one line
        Object flat = value instanceof String string ? BlockerText.oneLine(string) : value;
        event.addKeyValue(key, flat);
        BlockerText.append(message, key, value);
    }

    private static String seconds(Duration duration) {
        return duration == null ? null : Durations.human(duration);
    }
}
