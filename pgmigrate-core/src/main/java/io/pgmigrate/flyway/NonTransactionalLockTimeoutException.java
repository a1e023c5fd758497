package io.pgmigrate.flyway;

import java.time.Duration;
import java.util.List;

import io.pgmigrate.core.Blocker;
import io.pgmigrate.core.internal.BlockerText;
import io.pgmigrate.core.internal.GuardedRun;
import org.flywaydb.core.api.FlywayException;
import org.jspecify.annotations.Nullable;

/**
 * Thrown by {@link FlywayGuard#migrate} when a migration that does not run in a transaction (for example
 * {@code CREATE INDEX CONCURRENTLY}, or a script with {@code executeInTransaction=false}) hit the lock
 * timeout. It is never retried: PostgreSQL did not roll it back, so it may have left partial work (such as an
 * INVALID index), and Flyway recorded it as failed in the schema history.
 */
public class NonTransactionalLockTimeoutException extends FlywayException {

    private final String migration;
    private final Duration lockTimeout;
    private final List<Blocker> blockers;
    private final boolean selfBlocked;
    private final boolean blockedByOwnConnection;
    private final List<String> invalidIndexes;

    /**
     * An exception that does not know which invalid indexes the migration left.
     * @param migration the migration, for example {@code 3 (index orders)}
     * @param lockTimeout the configured lock timeout, {@code null} when PostgreSQL's own setting applied
     * @param blockers the sessions seen blocking it
     * @param selfBlocked whether it waited for Flyway's lock connection
     * @param cause Flyway's exception
     */
    public NonTransactionalLockTimeoutException(String migration, Duration lockTimeout, List<Blocker> blockers,
            boolean selfBlocked, Throwable cause) {
        this(migration, lockTimeout, blockers, selfBlocked, null, cause);
    }

    /**
     * @param migration the migration, for example {@code 3 (index orders)}
     * @param lockTimeout the configured lock timeout, {@code null} when PostgreSQL's own setting applied
     * @param blockers the sessions seen blocking it
     * @param selfBlocked whether it waited for a connection of the same Flyway run (Flyway's main connection,
     *        holding its transactional advisory lock)
     * @param invalidIndexes the INVALID indexes it left, schema-qualified and quoted where SQL needs it, empty when
     *        it left none, {@code null} when that is not known
     * @param cause Flyway's exception
     */
    public NonTransactionalLockTimeoutException(String migration, Duration lockTimeout, List<Blocker> blockers,
            boolean selfBlocked, List<String> invalidIndexes, Throwable cause) {
        this(migration, lockTimeout, blockers, selfBlocked, false, invalidIndexes, cause);
    }

    /**
     * @param migration the migration, for example {@code 3 (index orders)}
     * @param lockTimeout the configured lock timeout, {@code null} when PostgreSQL's own setting applied
     * @param blockers the sessions seen blocking it
     * @param selfBlocked whether it waited for Flyway's lock connection (Flyway's main connection, holding its
     *        transactional advisory lock)
     * @param blockedByOwnConnection whether it waited for another connection of the same run, for example one
     *        its Java code opened through Flyway's DataSource
     * @param invalidIndexes the INVALID indexes it left, schema-qualified and quoted where SQL needs it, empty when
     *        it left none, {@code null} when that is not known
     * @param cause Flyway's exception
     */
    public NonTransactionalLockTimeoutException(String migration, Duration lockTimeout, List<Blocker> blockers,
            boolean selfBlocked, boolean blockedByOwnConnection, List<String> invalidIndexes, Throwable cause) {
        super(message(migration, lockTimeout, blockers, selfBlocked, blockedByOwnConnection, invalidIndexes), cause);
        this.migration = migration;
        this.lockTimeout = lockTimeout;
        this.blockers = List.copyOf(blockers);
        this.selfBlocked = selfBlocked;
        this.blockedByOwnConnection = blockedByOwnConnection && !selfBlocked;
        this.invalidIndexes = invalidIndexes == null ? null : List.copyOf(invalidIndexes);
    }

    private static String message(String migration, Duration lockTimeout, List<Blocker> blockers,
            boolean selfBlocked, boolean blockedByOwnConnection, List<String> invalidIndexes) {
        String waited = selfBlocked ? " waited for Flyway's own connection until it hit the lock timeout, and is not "
                + "retried: migration=\""
                : blockedByOwnConnection ? " waited for another connection of its own run until it hit the lock "
                        + "timeout, and is not retried: migration=\""
                        : " hit the lock timeout and is not retried: migration=\"";
        StringBuilder message = new StringBuilder("pgmigrate: migration ").append(migration).append(waited)
            .append(migration).append("\" lock_timeout=").append(BlockerText.lockTimeout(lockTimeout))
            .append(" attempts=1");
        if (selfBlocked) {
            message.append("\n").append(SelfBlock.CAUSE).append("\nFix: ").append(SelfBlock.FIX);
        }
        else if (blockedByOwnConnection) {
            message.append("\n").append(SelfBlock.OWN_CONNECTION_CAUSE).append("\nFix: ")
                .append(SelfBlock.OWN_CONNECTION_FIX);
        }
        message.append(NOT_ROLLED_BACK);
        message.append(BlockerText.list(blockers));
        appendLeftovers(message, invalidIndexes);
        return message.toString();
    }

    /** Why a failed migration outside a transaction is not retried. */
    static final String NOT_ROLLED_BACK = "\nIt does not run in a transaction, so PostgreSQL did not roll it back and "
            + "it may have left partial work (for example an INVALID index), and Flyway recorded it as failed in the "
            + "schema history.";

    /** The INVALID indexes a failed migration outside a transaction left, and how to clean up before migrating again. */
    static void appendLeftovers(StringBuilder message, List<String> invalidIndexes) {
        if (invalidIndexes == null) {
            message.append("\nLook for INVALID indexes it left (SELECT indexrelid::regclass FROM pg_index WHERE NOT "
                    + "indisvalid) and drop them with DROP INDEX CONCURRENTLY.");
        }
        else if (!invalidIndexes.isEmpty()) {
            message.append("\nIt left ").append(invalidIndexes.size() == 1 ? "an INVALID index" : "INVALID indexes")
                .append("; drop ").append(invalidIndexes.size() == 1 ? "it" : "them").append(" before migrating again:");
            invalidIndexes.forEach((name) -> message.append("\n  ").append(GuardedRun.dropStatement(name)));
        }
        else {
            message.append("\nIt left no INVALID index.");
        }
        message.append("\nClean up what else the migration left, run flyway repair to remove the failed row, then "
                + "migrate again.");
    }

    /** The migration, for example {@code 3 (index orders)}. */
    public String migration() {
        return migration;
    }

    /** The configured lock timeout, {@code null} when PostgreSQL's own setting applied. */
    public Duration lockTimeout() {
        return lockTimeout;
    }

    /** The sessions the watcher saw blocking the migration. */
    public List<Blocker> blockers() {
        return blockers;
    }

    /**
     * Whether the migration waited for a connection of the same Flyway run: Flyway's main connection, holding its
     * transactional advisory lock ({@code postgresql.transactional.lock=true}, Flyway's default).
     */
    public boolean selfBlocked() {
        return selfBlocked;
    }

    /**
     * Whether the migration waited for another connection of the same run than Flyway's lock connection, for
     * example one its Java code opened through Flyway's DataSource: a deadlock within the run that no blocking
     * action could have ended, and that {@code transactional-lock=false} does not cure.
     */
    public boolean blockedByOwnConnection() {
        return blockedByOwnConnection;
    }

    /**
     * The INVALID indexes the migration left, schema-qualified and quoted where SQL needs it, for example
     * {@code public.orders_total_idx}; empty when it left none; {@code null} when pgmigrate could not tell.
     */
    public @Nullable List<String> invalidIndexes() {
        return invalidIndexes;
    }

    /** The statements that drop {@link #invalidIndexes()}: {@code DROP INDEX CONCURRENTLY IF EXISTS <name>;}. */
    public List<String> dropStatements() {
        return invalidIndexes == null ? List.of() : invalidIndexes.stream().map(GuardedRun::dropStatement).toList();
    }
}
