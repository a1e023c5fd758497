package io.pgmigrate.flyway;

import java.time.Duration;
import java.util.List;
import java.util.Locale;

import io.pgmigrate.core.Blocker;
import io.pgmigrate.core.BlockerReport;
import io.pgmigrate.core.Durations;

/** Blockers as exception-message lines: the fields an operator needs to find and judge the session. */
final class BlockerText {

    private BlockerText() {
    }

    /** One line per blocker, each starting on a new line; a sentence when there were none. */
    static String list(List<Blocker> blockers) {
        if (blockers.isEmpty()) {
            return "\nNo blocking session was seen by the watcher (it may have ended, or the wait was shorter "
                    + "than the poll interval).";
        }
        StringBuilder text = new StringBuilder("\nBlocking sessions seen while it waited:");
        for (Blocker blocker : blockers) {
            text.append("\n  ").append(line(blocker));
        }
        return text.toString();
    }

    static String line(Blocker blocker) {
        StringBuilder line = new StringBuilder();
        if (blocker.isPreparedTransaction()) {
            line.append("prepared_transaction=").append(quote(blocker.preparedTransaction()));
        }
        else {
            line.append("pid=").append(blocker.pid());
        }
        line.append(" user=").append(quote(blocker.user()));
        line.append(" application=").append(quote(blocker.applicationName()));
        if (blocker.backendType() != null) {
            line.append(" backend_type=").append(quote(blocker.backendType()));
        }
        line.append(" state=").append(quote(blocker.state()));
        line.append(" transaction_age=").append(seconds(blocker.age()));
        line.append(" query=").append(quote(blocker.queryOnOneLine()));
        return line.toString();
    }

    /** A blocker that was kept, with why: its line, then {@code kept=<outcome> reason="..."}. */
    static String kept(BlockerReport report) {
        StringBuilder line = new StringBuilder(line(report.blocker()));
        line.append(" kept=").append(report.outcome().name().toLowerCase(Locale.ROOT));
        if (!report.detail().isEmpty()) {
            line.append(" reason=").append(quote(report.detail()));
        }
        return line.toString();
    }

    static String lockTimeout(Duration lockTimeout) {
        return lockTimeout == null ? "server-default" : Durations.human(lockTimeout);
    }

    private static String seconds(Duration duration) {
        return duration == null ? "unknown" : Durations.human(duration);
    }

    private static String quote(String text) {
        if (text == null) {
            return "unknown";
        }
        return Blocker.logValue(text);
    }
}
