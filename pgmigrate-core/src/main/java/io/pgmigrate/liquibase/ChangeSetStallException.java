package io.pgmigrate.liquibase;

import java.util.List;

import io.pgmigrate.core.BlockerReport;
import io.pgmigrate.core.internal.BlockerText;
import io.pgmigrate.core.internal.Durations;
import io.pgmigrate.core.WaitCancellation;
import liquibase.exception.LiquibaseException;

import org.jspecify.annotations.Nullable;

/**
 * Thrown by {@link LiquibaseGuard} when pgmigrate cancelled a changeset's lock wait because the application queued
 * behind it for longer than max-application-stall, while the sessions it waited for were kept, and the changeset is
 * not tried again: its retries are used up, or it does not run in a transaction (then it may have left partial
 * work, such as an INVALID index, listed by {@link #invalidIndexes()}).
 */
public class ChangeSetStallException extends LiquibaseException {

    private static final long serialVersionUID = 1L;

    private final String changeSet;
    private final transient WaitCancellation cancellation;
    private final int attempts;
    private final boolean transactional;
    private final @Nullable List<String> invalidIndexes;

    /**
     * @param changeSet the changeset, for example {@code 2-add-note::orders-team (db/changelog/orders.yaml)}
     * @param cancellation what the watcher saw when it cancelled the last attempt's wait
     * @param attempts how many times it was tried
     * @param transactional whether it ran in a transaction (PostgreSQL rolled it back)
     * @param invalidIndexes for a changeset outside a transaction, the INVALID indexes it left (empty when none,
     *        {@code null} when not known); {@code null} for a transactional one
     * @param cause Liquibase's exception for the last attempt
     */
    public ChangeSetStallException(String changeSet, WaitCancellation cancellation, int attempts, boolean transactional,
            @Nullable List<String> invalidIndexes, Throwable cause) {
        super(message(changeSet, cancellation, attempts, transactional, invalidIndexes), cause);
        this.changeSet = changeSet;
        this.cancellation = cancellation;
        this.attempts = attempts;
        this.transactional = transactional;
        this.invalidIndexes = invalidIndexes == null ? null : List.copyOf(invalidIndexes);
    }

    private static String message(String changeSet, WaitCancellation cancellation, int attempts,
            boolean transactional, @Nullable List<String> invalidIndexes) {
        StringBuilder message = new StringBuilder("pgmigrate: changeset ").append(changeSet)
            .append(" kept the application queued behind its lock wait for longer than max-application-stall, so "
                    + "pgmigrate cancelled the wait; ")
            .append(transactional ? "PostgreSQL rolled back each attempt and no retries are left"
                    : "it is not retried")
            .append(": changeset=\"").append(changeSet).append("\" max_application_stall=")
            .append(Durations.human(cancellation.maxApplicationStall())).append(" queued_sessions=")
            .append(cancellation.queuedSessions()).append(" attempts=").append(attempts);
        if (cancellation.waitingFor() != null) {
            message.append(" object=").append(cancellation.waitingFor());
        }
        if (!transactional) {
            message.append(ChangeSetLockTimeoutException.NOT_ROLLED_BACK);
        }
        List<BlockerReport> kept = cancellation.keptBlockers();
        if (!kept.isEmpty()) {
            message.append("\nBlocking sessions kept, and why:");
            kept.forEach((report) -> message.append("\n  ").append(BlockerText.kept(report)));
        }
        if (!transactional) {
            ChangeSetLockTimeoutException.appendLeftovers(message, invalidIndexes);
        }
        return message.toString();
    }

    /** The changeset, for example {@code 2-add-note::orders-team (db/changelog/orders.yaml)}. */
    public String changeSet() {
        return changeSet;
    }

    /** What the watcher saw when it cancelled the last attempt's wait. */
    public WaitCancellation cancellation() {
        return cancellation;
    }

    /** How many times it was tried. */
    public int attempts() {
        return attempts;
    }

    /** Whether it ran in a transaction that PostgreSQL rolled back. */
    public boolean transactional() {
        return transactional;
    }

    /** For a changeset outside a transaction, the INVALID indexes it left; {@code null} when not known. */
    public @Nullable List<String> invalidIndexes() {
        return invalidIndexes;
    }
}
