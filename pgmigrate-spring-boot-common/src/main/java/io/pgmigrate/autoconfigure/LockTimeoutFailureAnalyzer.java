package io.pgmigrate.autoconfigure;

import java.time.Duration;
import java.util.List;
import java.util.Locale;

import io.pgmigrate.core.Blocker;
import io.pgmigrate.core.internal.BlockerText;
import io.pgmigrate.core.internal.Durations;
import io.pgmigrate.flyway.LockTimeoutExhaustedException;

import org.springframework.boot.diagnostics.AbstractFailureAnalyzer;
import org.springframework.boot.diagnostics.FailureAnalysis;
import org.springframework.core.env.Environment;

/**
 * Explains a start-up that failed because a migration could not get its locks within
 * {@code pgmigrate.lock-timeout}, on every attempt: which migration, the lock timeout, how often it was tried,
 * and the sessions that blocked it, with pid, user, application, state, age and query; then what to do, which
 * depends on the blocking action that was in use (a {@code BlockingAction} bean replaces
 * {@code pgmigrate.blocking-action}) and never suggests that very action. A migration that waited for another
 * connection of its own run gets that explanation and its fix instead.
 */
class LockTimeoutFailureAnalyzer extends AbstractFailureAnalyzer<LockTimeoutExhaustedException> {

    private final Environment environment;

    /**
     * An analyzer that reads the configured blocking action from the environment.
     * @param environment the failed application's environment
     */
    LockTimeoutFailureAnalyzer(Environment environment) {
        this.environment = environment;
    }

    @Override
    protected FailureAnalysis analyze(Throwable rootFailure, LockTimeoutExhaustedException cause) {
        return new FailureAnalysis(description(cause), action(cause), cause);
    }

    private String description(LockTimeoutExhaustedException cause) {
        StringBuilder description = new StringBuilder();
        description.append(String.format(Locale.ROOT,
                "Migration %s could not get its locks: it hit the lock timeout of %s on %s.%n", cause.migration(),
                duration(cause.lockTimeout()),
                (cause.attempts() == 1) ? "its only attempt" : "each of its " + cause.attempts() + " attempts"));
        if (cause.blockedByOwnConnection()) {
            description.append(String.format(Locale.ROOT,
                    "%nIt waited for another connection of its own run (for example one its Java code opened "
                            + "through Flyway's DataSource), which holds a lock the migration needs until the migration "
                            + "itself ends: a deadlock that no blocking action can end, so it was not retried.%n"));
        }
        List<Blocker> blockers = cause.blockers();
        if (blockers.isEmpty()) {
            description.append(String.format(Locale.ROOT,
                    "%nNo blocking session was seen: the lock was held for less than one poll interval, or by "
                            + "sessions that were gone when pgmigrate looked.%n"));
        }
        else {
            description.append(String.format(Locale.ROOT, "%nSessions that blocked it:%n"));
            for (Blocker blocker : blockers) {
                description.append(String.format(Locale.ROOT, "    - %s%n", BlockerText.sentence(blocker)));
            }
        }
        return description.toString();
    }

    private String action(LockTimeoutExhaustedException cause) {
        if (cause.blockedByOwnConnection()) {
            return "Run the migration's statements on the connection Flyway gives it (Context.getConnection() in a "
                    + "Java migration), or commit or close the other connection before the migration needs the "
                    + "lock; then start the application again. PostgreSQL rolled the migration back: nothing of it "
                    + "is left.";
        }
        String configured = this.environment.getProperty("pgmigrate.blocking-action", "terminate")
            .trim()
            .toLowerCase(Locale.ROOT);
        // the action the guard used: a BlockingAction bean replaces the property
        String blockingAction = (cause.blockingAction() != null) ? cause.blockingAction() : configured;
        String source = blockingAction.equals(configured) ? "pgmigrate.blocking-action is '" + blockingAction + "'"
                : "The blocking action in use was '" + blockingAction + "' (a BlockingAction bean, which replaces "
                        + "pgmigrate.blocking-action)";
        String pid = cause.blockers().stream()
            .filter((blocker) -> !blocker.isPreparedTransaction())
            .map((blocker) -> Integer.toString(blocker.pid()))
            .findFirst()
            .orElse("<pid>");
        StringBuilder action = new StringBuilder();
        if (blockingAction.equals("terminate") || blockingAction.equals("cancel")) {
            action.append(String.format(Locale.ROOT,
                    "%s, yet the blockers kept their locks. Look for pgmigrate's WARN "
                            + "lines about them. Either the migration's role may not signal them (grant it "
                            + "pg_signal_backend; sessions of superusers can only be ended by a superuser), or they are "
                            + "excluded (pgmigrate.exclude-application-names, pgmigrate.exclude-users), or they are "
                            + "prepared transactions (COMMIT PREPARED or ROLLBACK PREPARED them)%s.%n%n",
                    source, blockingAction.equals("cancel")
                            ? ", or they sit idle in a transaction, which cancelling does not end (use terminate)" : ""));
        }
        else if (blockingAction.equals("show") || blockingAction.equals("none")) {
            action.append(String.format(Locale.ROOT,
                    "%s, so pgmigrate left the blockers alone. Set it to 'terminate' "
                            + "to let pgmigrate end them.%n%n", source));
        }
        else {
            action.append(String.format(Locale.ROOT,
                    "The blocking action in use was %s (a BlockingAction bean), yet the blockers kept their locks. "
                            + "Look for pgmigrate's lines about them.%n%n", blockingAction));
        }
        action.append(String.format(Locale.ROOT,
                "Or end them yourself and start the application again, for example: SELECT pg_terminate_backend(%s);%n"
                        + "Or let the migration wait longer: raise pgmigrate.lock-timeout (now %s) or "
                        + "pgmigrate.lock-retries (now %s).",
                pid, duration(cause.lockTimeout()), this.environment.getProperty("pgmigrate.lock-retries", "0")));
        return action.toString();
    }

    static String duration(Duration duration) {
        if (duration == null) {
            return "unset";
        }
        return Durations.human(duration);
    }
}
