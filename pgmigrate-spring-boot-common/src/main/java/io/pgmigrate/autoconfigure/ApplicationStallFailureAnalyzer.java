package io.pgmigrate.autoconfigure;

import java.util.List;
import java.util.Locale;

import io.pgmigrate.core.internal.BlockerText;
import io.pgmigrate.core.BlockerReport;
import io.pgmigrate.core.WaitCancellation;
import io.pgmigrate.flyway.ApplicationStallException;

import org.springframework.boot.diagnostics.AbstractFailureAnalyzer;
import org.springframework.boot.diagnostics.FailureAnalysis;
import org.springframework.core.env.Environment;

/**
 * Explains a start-up that failed because pgmigrate cancelled a migration's (or a Flyway callback's) lock wait: the
 * application queued behind it for longer than {@code pgmigrate.max-application-stall} while the sessions it waited
 * for were kept, and no retry was left (or the migration runs outside a transaction, or it was a callback). The description names the migration, how many
 * sessions queued and each blocker kept with why; the action says how to let the migration through: end the
 * blockers, let pgmigrate end them, retry later with {@code pgmigrate.lock-retries}, or raise the bound.
 */
class ApplicationStallFailureAnalyzer extends AbstractFailureAnalyzer<ApplicationStallException> {

    private final Environment environment;

    /**
     * An analyzer that reads the configured retries from the environment.
     * @param environment the failed application's environment
     */
    ApplicationStallFailureAnalyzer(Environment environment) {
        this.environment = environment;
    }

    @Override
    protected FailureAnalysis analyze(Throwable rootFailure, ApplicationStallException cause) {
        return new FailureAnalysis(description(cause), action(cause), cause);
    }

    private static String description(ApplicationStallException cause) {
        WaitCancellation cancellation = cause.cancellation();
        StringBuilder description = new StringBuilder(String.format(Locale.ROOT,
                "%s %s waited for a lock%s while %d application session%s queued behind it. pgmigrate "
                        + "could not end what it waited for, so after pgmigrate.max-application-stall (%s) it "
                        + "cancelled the wait, to let the application through.%n",
                cause.callback() ? "Callback" : "Migration", cause.migration(), (cancellation.waitingFor() != null) ? " on " + cancellation.waitingFor() : "",
                cancellation.queuedSessions(), (cancellation.queuedSessions() == 1) ? "" : "s",
                LockTimeoutFailureAnalyzer.duration(cause.maxApplicationStall())));
        if (cause.callback()) {
            description.append(String.format(Locale.ROOT, "Callbacks are not retried. The migrations applied before "
                    + "it stay applied; if the callback ran in a transaction, PostgreSQL rolled it back, otherwise the "
                    + "statements before the one that waited are committed.%n"));
        }
        else if (cause.transactional()) {
            description.append(String.format(Locale.ROOT, "PostgreSQL rolled the migration back %s; nothing of it "
                    + "is left.%n", (cause.attempts() == 1) ? "on its only attempt"
                            : "on each of its " + cause.attempts() + " attempts"));
        }
        else {
            description.append(String.format(Locale.ROOT, "It does not run in a transaction, so it was not retried: "
                    + "PostgreSQL did not roll it back, it may have left partial work (such as an INVALID index), "
                    + "and Flyway recorded it as failed in its schema history.%n"));
        }
        List<BlockerReport> kept = cancellation.keptBlockers();
        if (kept.isEmpty()) {
            description.append(String.format(Locale.ROOT,
                    "%nNo session it waited for was kept: those pgmigrate signalled still held their locks (a "
                            + "terminated session releases them only once its transaction is rolled back).%n"));
        }
        else {
            description.append(String.format(Locale.ROOT, "%nSessions it waited for, which pgmigrate kept:%n"));
            for (BlockerReport report : kept) {
                description.append(String.format(Locale.ROOT, "    - %s; kept: %s%s%n",
                        BlockerText.sentence(report.blocker()),
                        report.outcome().name().toLowerCase(Locale.ROOT),
                        report.detail().isEmpty() ? "" : " (" + report.detail() + ")"));
            }
        }
        if (cause.invalidIndexes() != null && !cause.invalidIndexes().isEmpty()) {
            description.append(String.format(Locale.ROOT, "%nINVALID indexes it left: %s%n",
                    String.join(", ", cause.invalidIndexes())));
        }
        return description.toString();
    }

    private String action(ApplicationStallException cause) {
        String pid = cause.cancellation().keptBlockers().stream()
            .map(BlockerReport::blocker)
            .filter((blocker) -> !blocker.isPreparedTransaction())
            .map((blocker) -> Integer.toString(blocker.pid()))
            .findFirst()
            .orElse("<pid>");
        StringBuilder action = new StringBuilder();
        if (!cause.transactional() && !cause.callback()) {
            action.append(String.format(Locale.ROOT, "Drop any INVALID index the migration left (DROP INDEX "
                    + "CONCURRENTLY), clean up what else it left and run Flyway's repair to remove the failed row "
                    + "from the schema history. Then:%n"));
        }
        action.append(String.format(Locale.ROOT,
                "End the sessions it waited for and start the application again, for example: "
                        + "SELECT pg_terminate_backend(%s);%n"
                        + "Or let pgmigrate end them: pgmigrate.blocking-action=terminate, and take them out of "
                        + "pgmigrate.exclude-application-names and pgmigrate.exclude-users (look for pgmigrate's lines "
                        + "about them for why they were kept).%n",
                pid));
        if (cause.callback()) {
            action.append(String.format(Locale.ROOT, "If Flyway does not fire the callback on every migrate, run "
                    + "what it does yourself once the blockers are gone.%n"));
        }
        if (cause.transactional()) {
            action.append(String.format(Locale.ROOT, "Or try again later in the same start-up: raise "
                    + "pgmigrate.lock-retries (now %s).%n",
                    this.environment.getProperty("pgmigrate.lock-retries", "0")));
        }
        action.append(String.format(Locale.ROOT, "Or raise pgmigrate.max-application-stall (now %s); 0 lets the "
                + "migration, and every query queued behind it, wait as long as the blockers last.",
                LockTimeoutFailureAnalyzer.duration(cause.maxApplicationStall())));
        return action.toString();
    }
}
