package io.pgmigrate.autoconfigure;

import io.pgmigrate.flyway.FlywayGuard;
import java.util.Locale;

import io.pgmigrate.core.internal.BlockerText;
import io.pgmigrate.core.Blocker;
import io.pgmigrate.flyway.NonTransactionalLockTimeoutException;
import io.pgmigrate.core.SelfBlockedEvent;

import org.springframework.boot.diagnostics.AbstractFailureAnalyzer;
import org.springframework.boot.diagnostics.FailureAnalysis;

/**
 * Explains a start-up that failed because a migration outside a transaction (for example
 * {@code CREATE INDEX CONCURRENTLY}) hit {@code pgmigrate.lock-timeout}: such a migration is never retried, may
 * have left partial work, and Flyway recorded it as failed, so the way out is different from a transactional one.
 * When it waited for Flyway's own connection (Flyway's transactional advisory lock), the Description says so and
 * the Action starts with {@code spring.flyway.postgresql.transactional-lock=false}; when it waited for another
 * connection of its own run (one its Java code opened, say), the Description says so and the Action starts with
 * that fix, with no word of the transactional lock. The INVALID indexes it left are named with the statements that
 * drop them.
 */
class NonTransactionalLockTimeoutFailureAnalyzer
        extends AbstractFailureAnalyzer<NonTransactionalLockTimeoutException> {

    @Override
    protected FailureAnalysis analyze(Throwable rootFailure, NonTransactionalLockTimeoutException cause) {
        return new FailureAnalysis(description(cause), action(cause), cause);
    }

    private static String description(NonTransactionalLockTimeoutException cause) {
        StringBuilder description = new StringBuilder(String.format(Locale.ROOT,
                "Migration %s does not run in a transaction and hit the lock timeout of %s. It was not retried: "
                        + "PostgreSQL did not roll it back, so it may have left partial work (such as an INVALID "
                        + "index), and Flyway recorded it as failed in its schema history.%n",
                cause.migration(), LockTimeoutFailureAnalyzer.duration(cause.lockTimeout())));
        if (cause.selfBlocked()) {
            description.append(String.format(Locale.ROOT,
                    "%nIt waited for Flyway's own connection, which pgmigrate never ends: with "
                            + "spring.flyway.postgresql.transactional-lock left at Flyway's default (true), Flyway's "
                            + "main connection holds its advisory lock in a transaction that stays open for the whole "
                            + "run, and a statement such as CREATE INDEX CONCURRENTLY waits for older transactions to "
                            + "end, so it would have waited for ever.%n"));
        }
        else if (cause.blockedByOwnConnection()) {
            description.append(String.format(Locale.ROOT,
                    "%nIt waited for another connection of its own run (for example one its Java code opened "
                            + "through Flyway's DataSource), which holds a lock the migration needs until the migration "
                            + "itself ends: a deadlock that no blocking action can end.%n"));
        }
        if (!cause.blockers().isEmpty()) {
            description.append(String.format(Locale.ROOT, "%nSessions that blocked it:%n"));
            for (Blocker blocker : cause.blockers()) {
                description.append(String.format(Locale.ROOT, "    - %s%n",
                        BlockerText.sentence(blocker)));
            }
        }
        if (cause.invalidIndexes() != null && !cause.invalidIndexes().isEmpty()) {
            description.append(String.format(Locale.ROOT, "%nINVALID indexes it left: %s%n",
                    String.join(", ", cause.invalidIndexes())));
        }
        return description.toString();
    }

    private static String action(NonTransactionalLockTimeoutException cause) {
        StringBuilder action = new StringBuilder();
        if (cause.selfBlocked()) {
            action.append(String.format(Locale.ROOT,
                    "Set %s, so Flyway takes a session-level advisory lock instead of keeping a transaction "
                            + "open (plain Flyway: %s).%n%n",
                    FlywayGuard.SPRING_BOOT_TRANSACTIONAL_LOCK_FIX, FlywayGuard.FLYWAY_TRANSACTIONAL_LOCK_FIX));
        }
        else if (cause.blockedByOwnConnection()) {
            action.append(String.format(Locale.ROOT,
                    "Run the migration's statements on the connection Flyway gives it (Context.getConnection() in a "
                            + "Java migration), or commit or close the other connection before the migration needs "
                            + "the lock.%n%n"));
        }
        if (cause.invalidIndexes() == null) {
            action.append(String.format(Locale.ROOT, "Look for INVALID indexes the migration left (SELECT "
                    + "indexrelid::regclass FROM pg_index WHERE NOT indisvalid) and drop them with DROP INDEX "
                    + "CONCURRENTLY.%n"));
        }
        else if (!cause.invalidIndexes().isEmpty()) {
            action.append(String.format(Locale.ROOT, "Drop the INVALID index%s it left:%n",
                    cause.invalidIndexes().size() == 1 ? "" : "es"));
            cause.dropStatements().forEach((drop) -> action.append(String.format(Locale.ROOT, "    %s%n", drop)));
            action.append(String.format(Locale.ROOT, "%n"));
        }
        action.append("Check the schema for anything else the migration left, run Flyway's repair to remove the "
                + "failed row from the schema history, then start the application again.");
        if (!cause.selfBlocked() && !cause.blockedByOwnConnection()) {
            action.append(String.format(Locale.ROOT, "%nIf it waited for a connection of the same Flyway run, set "
                    + "%s: Flyway's transactional advisory lock keeps a transaction open that a concurrent index "
                    + "build waits for.", FlywayGuard.SPRING_BOOT_TRANSACTIONAL_LOCK_FIX));
        }
        return action.toString();
    }
}
