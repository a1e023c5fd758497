package io.pgmigrate.autoconfigure;

import java.util.Locale;

import io.pgmigrate.core.internal.BlockerText;
import io.pgmigrate.core.Blocker;
import io.pgmigrate.flyway.CallbackLockTimeoutException;

import org.springframework.boot.diagnostics.AbstractFailureAnalyzer;
import org.springframework.boot.diagnostics.FailureAnalysis;

/**
 * Explains a start-up that failed because a Flyway callback (for example {@code afterMigrate.sql} refreshing a
 * materialized view) hit {@code pgmigrate.lock-timeout}: which event, that it was not retried and that the
 * migrations applied before it stay applied, the sessions that blocked it, then what to do, without suggesting the
 * blocking action that was already in use.
 */
class CallbackLockTimeoutFailureAnalyzer extends AbstractFailureAnalyzer<CallbackLockTimeoutException> {

    @Override
    protected FailureAnalysis analyze(Throwable rootFailure, CallbackLockTimeoutException cause) {
        return new FailureAnalysis(description(cause), action(cause), cause);
    }

    private static String description(CallbackLockTimeoutException cause) {
        StringBuilder description = new StringBuilder(String.format(Locale.ROOT,
                "Flyway's %s callback hit the lock timeout of %s and was not retried. The migrations applied "
                        + "before it stay applied (%d in this run).%n",
                cause.event(), LockTimeoutFailureAnalyzer.duration(cause.lockTimeout()), cause.migrationsApplied()));
        if (cause.blockedByOwnConnection()) {
            description.append(String.format(Locale.ROOT,
                    "%nIt waited for another connection of its own run (for example one its Java code opened "
                            + "through Flyway's DataSource): a deadlock that no blocking action can end.%n"));
        }
        if (!cause.blockers().isEmpty()) {
            description.append(String.format(Locale.ROOT, "%nSessions that blocked it:%n"));
            for (Blocker blocker : cause.blockers()) {
                description.append(String.format(Locale.ROOT, "    - %s%n",
                        BlockerText.sentence(blocker)));
            }
        }
        return description.toString();
    }

    private static String action(CallbackLockTimeoutException cause) {
        StringBuilder action = new StringBuilder();
        if (cause.blockedByOwnConnection()) {
            action.append("Run the callback's statements on the connection Flyway gives it (Context.getConnection()), "
                    + "or commit or close the other connection before the callback needs the lock. ");
        }
        else if ("terminate".equals(cause.blockingAction())) {
            action.append("pgmigrate already terminates blockers, yet these kept their locks: they are sessions it "
                    + "never ends (excluded, protected, or of a role the migration's role may not signal: grant it "
                    + "pg_signal_backend). End them yourself, or raise pgmigrate.lock-timeout. ");
        }
        else {
            action.append("End the blocking sessions (or set pgmigrate.blocking-action to 'terminate'), or raise "
                    + "pgmigrate.lock-timeout. ");
        }
        if (cause.runsAgainOnNextMigrate()) {
            action.append(String.format(Locale.ROOT,
                    "Then start the application again: Flyway runs %s callbacks on every migrate.", cause.event()));
        }
        else {
            action.append(String.format(Locale.ROOT,
                    "Flyway may not run %s callbacks again, so run what the callback does yourself, then start the "
                            + "application again.", cause.event()));
        }
        return action.toString();
    }
}
