package io.pgmigrate.autoconfigure;

import java.util.Locale;

import io.pgmigrate.core.Blocker;
import io.pgmigrate.flyway.NonTransactionalLockTimeoutException;

import org.springframework.boot.diagnostics.AbstractFailureAnalyzer;
import org.springframework.boot.diagnostics.FailureAnalysis;

/**
 * Explains a start-up that failed because a migration outside a transaction (for example
 * {@code CREATE INDEX CONCURRENTLY}) hit {@code pgmigrate.lock-timeout}: such a migration is never retried, may
 * have left partial work, and Flyway recorded it as failed, so the way out is different from a transactional one.
 */
public class NonTransactionalLockTimeoutFailureAnalyzer
        extends AbstractFailureAnalyzer<NonTransactionalLockTimeoutException> {

    @Override
    protected FailureAnalysis analyze(Throwable rootFailure, NonTransactionalLockTimeoutException cause) {
        StringBuilder description = new StringBuilder(String.format(Locale.ROOT,
                "Migration %s does not run in a transaction and hit the lock timeout of %s. It was not retried: "
                        + "PostgreSQL did not roll it back, so it may have left partial work (such as an INVALID "
                        + "index), and Flyway recorded it as failed in its schema history.%n",
                cause.migration(), LockTimeoutFailureAnalyzer.duration(cause.lockTimeout())));
        if (!cause.blockers().isEmpty()) {
            description.append(String.format(Locale.ROOT, "%nSessions that blocked it:%n"));
            for (Blocker blocker : cause.blockers()) {
                description.append(String.format(Locale.ROOT, "    - %s%n",
                        LockTimeoutFailureAnalyzer.describe(blocker)));
            }
        }
        String action = String.format(Locale.ROOT,
                "Check the schema and clean up what the migration left (for example DROP INDEX CONCURRENTLY an "
                        + "INVALID index), run Flyway's repair to remove the failed row from the schema history, then "
                        + "start the application again.%n"
                        + "If it waited for a connection of the same Flyway run, set "
                        + "spring.flyway.postgresql.transactional-lock=false: Flyway's transactional advisory lock "
                        + "keeps a transaction open that a concurrent index build waits for.");
        return new FailureAnalysis(description.toString(), action, cause);
    }
}
