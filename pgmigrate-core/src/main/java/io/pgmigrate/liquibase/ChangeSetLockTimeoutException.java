package io.pgmigrate.liquibase;

import java.time.Duration;
import java.util.List;

import io.pgmigrate.core.Blocker;
import io.pgmigrate.core.internal.BlockerText;
import io.pgmigrate.core.internal.GuardedRun;
import liquibase.exception.LiquibaseException;

import org.jspecify.annotations.Nullable;

/**
 * Thrown by {@link LiquibaseGuard} when a changeset could not get its locks within the lock timeout. A changeset
 * that runs in a transaction ({@code runInTransaction}, Liquibase's default) was rolled back by PostgreSQL on every
 * attempt and tried as often as the retries allow: nothing of it is left and DATABASECHANGELOG has no row for it.
 * A changeset with {@code runInTransaction="false"} was tried once: PostgreSQL did not roll it back, so it may have
 * left partial work, such as an INVALID index from {@code CREATE INDEX CONCURRENTLY} ({@link #invalidIndexes()}).
 * The message names the changeset, the lock timeout, the attempts and each blocking session the watcher saw.
 */
public class ChangeSetLockTimeoutException extends LiquibaseException {

    private static final long serialVersionUID = 1L;

    private final String changeSet;
    private final @Nullable Duration lockTimeout;
    private final int attempts;
    private final boolean transactional;
    private final List<Blocker> blockers;
    private final boolean blockedByOwnConnection;
    private final @Nullable String blockingAction;
    private final @Nullable List<String> invalidIndexes;

    /**
     * @param changeSet the changeset, for example {@code 2-add-note::orders-team (db/changelog/orders.yaml)}
     * @param lockTimeout the configured lock timeout, {@code null} when PostgreSQL's own setting applied
     * @param attempts how many times it was tried
     * @param transactional whether it ran in a transaction that PostgreSQL rolled back
     * @param blockers the sessions seen blocking it, over all attempts
     * @param blockedByOwnConnection whether it waited for another connection of its own run
     * @param blockingAction the blocking action in use ({@code terminate}, ..., or a custom one's class name)
     * @param invalidIndexes for a changeset outside a transaction, the INVALID indexes it left; {@code null} when
     *        it ran in a transaction or pgmigrate could not tell
     * @param cause Liquibase's exception for the last attempt
     */
    public ChangeSetLockTimeoutException(String changeSet, @Nullable Duration lockTimeout, int attempts,
            boolean transactional, List<Blocker> blockers, boolean blockedByOwnConnection,
            @Nullable String blockingAction, @Nullable List<String> invalidIndexes, Throwable cause) {
        super(message(changeSet, lockTimeout, attempts, transactional, blockers, blockedByOwnConnection,
                invalidIndexes), cause);
        this.changeSet = changeSet;
        this.lockTimeout = lockTimeout;
        this.attempts = attempts;
        this.transactional = transactional;
        this.blockers = List.copyOf(blockers);
        this.blockedByOwnConnection = blockedByOwnConnection;
        this.blockingAction = blockingAction;
        this.invalidIndexes = invalidIndexes == null ? null : List.copyOf(invalidIndexes);
    }

    private static String message(String changeSet, @Nullable Duration lockTimeout, int attempts,
            boolean transactional, List<Blocker> blockers, boolean blockedByOwnConnection,
            @Nullable List<String> invalidIndexes) {
        String details = "changeset=\"" + changeSet + "\" lock_timeout=" + BlockerText.lockTimeout(lockTimeout)
                + " attempts=" + attempts;
        StringBuilder message = new StringBuilder("pgmigrate: changeset ").append(changeSet);
        if (blockedByOwnConnection) {
            message.append(" waited for another connection of its own run until it hit the lock timeout, and is "
                    + "not retried: ").append(details).append('\n').append(SelfBlock.OWN_CONNECTION_CAUSE);
        }
        else if (transactional) {
            message.append(" could not get its locks within the lock timeout; PostgreSQL rolled back each attempt "
                    + "and no retries are left: ").append(details);
        }
        else {
            message.append(" hit the lock timeout and is not retried: ").append(details);
        }
        if (transactional) {
            message.append("\nPostgreSQL rolled it back: nothing of it is left and DATABASECHANGELOG has no row for "
                    + "it.");
        }
        else {
            message.append(NOT_ROLLED_BACK);
        }
        message.append(BlockerText.list(blockers));
        if (!transactional) {
            appendLeftovers(message, invalidIndexes);
        }
        return message.toString();
    }

    /** Why a failed changeset outside a transaction is not retried. */
    static final String NOT_ROLLED_BACK = "\nIt does not run in a transaction (runInTransaction=\"false\"), so "
            + "PostgreSQL did not roll it back and it may have left partial work (for example an INVALID index); "
            + "Liquibase did not record it in DATABASECHANGELOG and runs it again at the next update.";

    /** The INVALID indexes a failed changeset outside a transaction left. */
    static void appendLeftovers(StringBuilder message, @Nullable List<String> invalidIndexes) {
        if (invalidIndexes == null) {
            message.append("\nLook for INVALID indexes it left (SELECT indexrelid::regclass FROM pg_index WHERE NOT "
                    + "indisvalid) and drop them with DROP INDEX CONCURRENTLY.");
        }
        else if (!invalidIndexes.isEmpty()) {
            message.append("\nIt left ").append(invalidIndexes.size() == 1 ? "an INVALID index" : "INVALID indexes")
                .append("; drop ").append(invalidIndexes.size() == 1 ? "it" : "them")
                .append(" before the next update:");
            invalidIndexes.forEach((name) -> message.append("\n  ").append(GuardedRun.dropStatement(name)));
        }
        else {
            message.append("\nIt left no INVALID index.");
        }
    }

    /** The changeset, for example {@code 2-add-note::orders-team (db/changelog/orders.yaml)}. */
    public String changeSet() {
        return changeSet;
    }

    /** The configured lock timeout, {@code null} when PostgreSQL's own setting applied. */
    public @Nullable Duration lockTimeout() {
        return lockTimeout;
    }

    /** How many times it was tried: 1 for a changeset outside a transaction. */
    public int attempts() {
        return attempts;
    }

    /** Whether it ran in a transaction that PostgreSQL rolled back ({@code runInTransaction}, the default). */
    public boolean transactional() {
        return transactional;
    }

    /** The sessions the watcher saw blocking it, over all attempts. */
    public List<Blocker> blockers() {
        return blockers;
    }

    /** Whether it waited for another connection of its own run: a deadlock no blocking action and no retry ends. */
    public boolean blockedByOwnConnection() {
        return blockedByOwnConnection;
    }

    /** The blocking action in use, {@code null} when not known. */
    public @Nullable String blockingAction() {
        return blockingAction;
    }

    /**
     * For a changeset outside a transaction, the INVALID indexes it left, for example {@code public.orders_note_idx};
     * empty when it left none; {@code null} when it ran in a transaction or pgmigrate could not tell.
     */
    public @Nullable List<String> invalidIndexes() {
        return invalidIndexes;
    }

    /** The statements that drop {@link #invalidIndexes()}. */
    public List<String> dropStatements() {
        return invalidIndexes == null ? List.of() : invalidIndexes.stream().map(GuardedRun::dropStatement).toList();
    }
}
