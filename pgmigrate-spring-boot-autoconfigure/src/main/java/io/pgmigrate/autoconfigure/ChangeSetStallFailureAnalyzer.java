package io.pgmigrate.autoconfigure;

import java.time.Duration;
import java.util.List;
import java.util.Locale;

import io.pgmigrate.core.BlockerReport;
import io.pgmigrate.core.WaitCancellation;
import io.pgmigrate.core.internal.BlockerText;
import io.pgmigrate.core.internal.Durations;
import io.pgmigrate.liquibase.ChangeSetStallException;

import org.springframework.boot.diagnostics.AbstractFailureAnalyzer;
import org.springframework.boot.diagnostics.FailureAnalysis;
import org.springframework.core.env.Environment;

/**
 * Explains a start-up that failed because pgmigrate cancelled a Liquibase changeset's lock wait: the application
 * queued behind it for longer than {@code pgmigrate.max-application-stall} while the sessions it waited for were
 * kept, and no retry was left (or the changeset runs outside a transaction). The description names the changeset,
 * how many sessions queued and each blocker kept with why; the action says how to let the changeset through.
 */
class ChangeSetStallFailureAnalyzer extends AbstractFailureAnalyzer<ChangeSetStallException> {

    private final Environment environment;

    ChangeSetStallFailureAnalyzer(Environment environment) {
        this.environment = environment;
    }

    @Override
    protected FailureAnalysis analyze(Throwable rootFailure, ChangeSetStallException cause) {
        return new FailureAnalysis(description(cause), action(cause), cause);
    }

    private static String description(ChangeSetStallException cause) {
        WaitCancellation cancellation = cause.cancellation();
        StringBuilder description = new StringBuilder(String.format(Locale.ROOT,
                "Changeset %s waited for a lock%s while %d application session%s queued behind it. pgmigrate could "
                        + "not end what it waited for, so after pgmigrate.max-application-stall (%s) it cancelled the "
                        + "wait, to let the application through.%n",
                cause.changeSet(), (cancellation.waitingFor() != null) ? " on " + cancellation.waitingFor() : "",
                cancellation.queuedSessions(), (cancellation.queuedSessions() == 1) ? "" : "s",
                duration(cancellation.maxApplicationStall())));
        if (cause.transactional()) {
            description.append(String.format(Locale.ROOT, "PostgreSQL rolled the changeset back %s; nothing of it "
                    + "is left.%n", (cause.attempts() == 1) ? "on its only attempt"
                            : "on each of its " + cause.attempts() + " attempts"));
        }
        else {
            description.append(String.format(Locale.ROOT, "It does not run in a transaction "
                    + "(runInTransaction=\"false\"), so it was not retried: PostgreSQL did not roll it back and it may "
                    + "have left partial work (such as an INVALID index); Liquibase runs it again at the next "
                    + "start.%n"));
        }
        List<BlockerReport> kept = cancellation.keptBlockers();
        if (!kept.isEmpty()) {
            description.append(String.format(Locale.ROOT, "%nSessions it waited for, which pgmigrate kept:%n"));
            for (BlockerReport report : kept) {
                description.append(String.format(Locale.ROOT, "    - %s; kept: %s%s%n",
                        BlockerText.sentence(report.blocker()), report.outcome().name().toLowerCase(Locale.ROOT),
                        report.detail().isEmpty() ? "" : " (" + report.detail() + ")"));
            }
        }
        if (cause.invalidIndexes() != null && !cause.invalidIndexes().isEmpty()) {
            description.append(String.format(Locale.ROOT, "%nINVALID indexes it left: %s%n",
                    String.join(", ", cause.invalidIndexes())));
        }
        return description.toString();
    }

    private String action(ChangeSetStallException cause) {
        String pid = cause.cancellation().keptBlockers().stream()
            .map(BlockerReport::blocker)
            .filter((blocker) -> !blocker.isPreparedTransaction())
            .map((blocker) -> Integer.toString(blocker.pid()))
            .findFirst()
            .orElse("<pid>");
        StringBuilder action = new StringBuilder();
        if (!cause.transactional()) {
            action.append(String.format(Locale.ROOT, "Drop any INVALID index the changeset left (DROP INDEX "
                    + "CONCURRENTLY) and clean up what else it left. Then:%n"));
        }
        action.append(String.format(Locale.ROOT,
                "End the sessions it waited for and start the application again, for example: "
                        + "SELECT pg_terminate_backend(%s);%n"
                        + "Or let pgmigrate end them: pgmigrate.blocking-action=terminate, and take them out of "
                        + "pgmigrate.exclude-application-names and pgmigrate.exclude-users (look for pgmigrate's lines "
                        + "about them for why they were kept).%n", pid));
        if (cause.transactional()) {
            action.append(String.format(Locale.ROOT, "Or try again later in the same start-up: raise "
                    + "pgmigrate.lock-retries (now %s).%n", this.environment.getProperty("pgmigrate.lock-retries", "0")));
        }
        action.append(String.format(Locale.ROOT, "Or raise pgmigrate.max-application-stall (now %s); 0 lets the "
                + "changeset, and every query queued behind it, wait as long as the blockers last.",
                duration(cause.cancellation().maxApplicationStall())));
        return action.toString();
    }

    /** Loads no Flyway class: Flyway's analyzers are not usable in an application without Flyway. */
    private static String duration(Duration duration) {
        return (duration != null) ? Durations.human(duration) : "unset";
    }
}
