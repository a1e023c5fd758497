package io.pgmigrate.autoconfigure;

import java.time.Duration;
import java.util.Locale;

import io.pgmigrate.core.Blocker;
import io.pgmigrate.core.internal.BlockerText;
import io.pgmigrate.core.internal.Durations;
import io.pgmigrate.liquibase.ChangeSetLockTimeoutException;

import org.springframework.boot.diagnostics.AbstractFailureAnalyzer;
import org.springframework.boot.diagnostics.FailureAnalysis;
import org.springframework.core.env.Environment;

/**
 * Explains a start-up that failed because a Liquibase changeset could not get its locks within
 * {@code pgmigrate.lock-timeout}: which changeset, how often it was tried, the sessions that blocked it; then what
 * to do. A changeset with {@code runInTransaction="false"} was tried once and may have left work behind: the
 * INVALID indexes it left are named with the statements that drop them.
 */
class ChangeSetLockTimeoutFailureAnalyzer extends AbstractFailureAnalyzer<ChangeSetLockTimeoutException> {

    private final Environment environment;

    ChangeSetLockTimeoutFailureAnalyzer(Environment environment) {
        this.environment = environment;
    }

    @Override
    protected FailureAnalysis analyze(Throwable rootFailure, ChangeSetLockTimeoutException cause) {
        return new FailureAnalysis(description(cause), action(cause), cause);
    }

    private static String description(ChangeSetLockTimeoutException cause) {
        StringBuilder description = new StringBuilder();
        String timeout = duration(cause.lockTimeout());
        if (cause.transactional()) {
            description.append(String.format(Locale.ROOT,
                    "Changeset %s could not get its locks: it hit the lock timeout of %s on %s. PostgreSQL rolled it "
                            + "back each time: nothing of it is left.%n",
                    cause.changeSet(), timeout, (cause.attempts() == 1) ? "its only attempt"
                            : "each of its " + cause.attempts() + " attempts"));
        }
        else {
            description.append(String.format(Locale.ROOT,
                    "Changeset %s does not run in a transaction (runInTransaction=\"false\") and hit the lock timeout "
                            + "of %s. It was not retried: PostgreSQL did not roll it back, so it may have left partial "
                            + "work (such as an INVALID index); Liquibase did not record it and runs it again at the "
                            + "next start.%n", cause.changeSet(), timeout));
        }
        if (cause.blockedByOwnConnection()) {
            description.append(String.format(Locale.ROOT, "%nIt waited for another connection of its own run, which "
                    + "holds a lock the changeset needs until the changeset itself ends: a deadlock that no blocking "
                    + "action can end.%n"));
        }
        if (cause.blockers().isEmpty()) {
            description.append(String.format(Locale.ROOT, "%nNo blocking session was seen: the lock was held for less "
                    + "than one poll interval, or by sessions that were gone when pgmigrate looked.%n"));
        }
        else {
            description.append(String.format(Locale.ROOT, "%nSessions that blocked it:%n"));
            for (Blocker blocker : cause.blockers()) {
                description.append(String.format(Locale.ROOT, "    - %s%n", BlockerText.sentence(blocker)));
            }
        }
        if (cause.invalidIndexes() != null && !cause.invalidIndexes().isEmpty()) {
            description.append(String.format(Locale.ROOT, "%nINVALID indexes it left: %s%n",
                    String.join(", ", cause.invalidIndexes())));
        }
        return description.toString();
    }

    private String action(ChangeSetLockTimeoutException cause) {
        StringBuilder action = new StringBuilder();
        if (!cause.transactional()) {
            if (cause.invalidIndexes() == null) {
                action.append(String.format(Locale.ROOT, "Look for INVALID indexes the changeset left (SELECT "
                        + "indexrelid::regclass FROM pg_index WHERE NOT indisvalid) and drop them with DROP INDEX "
                        + "CONCURRENTLY.%n%n"));
            }
            else if (!cause.invalidIndexes().isEmpty()) {
                action.append(String.format(Locale.ROOT, "Drop the INVALID index%s it left before the next start:%n",
                        cause.invalidIndexes().size() == 1 ? "" : "es"));
                cause.dropStatements().forEach((drop) -> action.append(String.format(Locale.ROOT, "    %s%n", drop)));
                action.append(String.format(Locale.ROOT, "%n"));
            }
        }
        String blockingAction = (cause.blockingAction() != null) ? cause.blockingAction()
                : this.environment.getProperty("pgmigrate.blocking-action", "terminate");
        String pid = cause.blockers().stream()
            .filter((blocker) -> !blocker.isPreparedTransaction())
            .map((blocker) -> Integer.toString(blocker.pid()))
            .findFirst()
            .orElse("<pid>");
        if (blockingAction.equals("show") || blockingAction.equals("none")) {
            action.append(String.format(Locale.ROOT, "The blocking action in use was '%s', so pgmigrate left the "
                    + "blockers alone. Set pgmigrate.blocking-action to 'terminate' to let pgmigrate end them.%n%n",
                    blockingAction));
        }
        else {
            action.append(String.format(Locale.ROOT, "The blocking action in use was '%s', yet the blockers kept their "
                    + "locks. Look for pgmigrate's lines about them: the role may not signal them (grant it "
                    + "pg_signal_backend), or they are excluded (pgmigrate.exclude-application-names, "
                    + "pgmigrate.exclude-users), or they are prepared transactions.%n%n", blockingAction));
        }
        action.append(String.format(Locale.ROOT,
                "Or end them yourself and start the application again, for example: SELECT pg_terminate_backend(%s);%n"
                        + "Or let the changeset wait longer: raise pgmigrate.lock-timeout (now %s)%s.",
                pid, duration(cause.lockTimeout()),
                cause.transactional() ? " or pgmigrate.lock-retries (now "
                        + this.environment.getProperty("pgmigrate.lock-retries", "0") + ")" : ""));
        return action.toString();
    }

    /** Loads no Flyway class: Flyway's analyzers are not usable in an application without Flyway. */
    private static String duration(Duration duration) {
        return (duration != null) ? Durations.human(duration) : "unset";
    }
}
