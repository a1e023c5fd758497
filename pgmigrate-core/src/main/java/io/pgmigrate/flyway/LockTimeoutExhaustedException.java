package io.pgmigrate.flyway;

import java.time.Duration;
import java.util.List;

import io.pgmigrate.core.Blocker;
import io.pgmigrate.core.internal.BlockerText;
import org.flywaydb.core.api.FlywayException;
import org.jspecify.annotations.Nullable;

/**
 * Thrown by {@link FlywayGuard#migrate} when a transactional migration hit the lock timeout more often than
 * the retries allow, or at once when it waited for another connection of its own run (a deadlock that no retry
 * resolves, see {@link #blockedByOwnConnection()}). PostgreSQL rolled back every attempt: nothing of the
 * migration is left in the schema and the schema history has no row for it. The message names the migration,
 * the lock timeout, the attempts and each blocking session the watcher saw, then what to do; it never suggests
 * the blocking action that was already in use.
 */
public class LockTimeoutExhaustedException extends FlywayException {

    private final String migration;
    private final Duration lockTimeout;
    private final int attempts;
    private final List<Blocker> blockers;
    private final boolean blockedByOwnConnection;
    private final String blockingAction;

    /**
     * An exception that knows neither the blocking action nor whether the migration waited for its own run.
     * @param migration the migration, for example {@code 2 (add email)}
     * @param lockTimeout the configured lock timeout, {@code null} when PostgreSQL's own setting applied
     * @param attempts how many times it was tried
     * @param blockers the sessions seen blocking it, over all attempts
     * @param cause Flyway's exception for the last attempt
     */
    public LockTimeoutExhaustedException(String migration, Duration lockTimeout, int attempts, List<Blocker> blockers,
            Throwable cause) {
        this(migration, lockTimeout, attempts, blockers, false, null, cause);
    }

    /**
     * @param migration the migration, for example {@code 2 (add email)}
     * @param lockTimeout the configured lock timeout, {@code null} when PostgreSQL's own setting applied
     * @param attempts how many times it was tried
     * @param blockers the sessions seen blocking it, over all attempts
     * @param blockedByOwnConnection whether it waited for another connection of its own run (not Flyway's lock
     *        connection), for example one its Java code opened through Flyway's DataSource: then it was tried once
     * @param blockingAction the blocking action in use: {@code terminate}, {@code cancel}, {@code show},
     *        {@code none}, or the class name of a custom one; {@code null} when not known
     * @param cause Flyway's exception for the last attempt
     */
    public LockTimeoutExhaustedException(String migration, Duration lockTimeout, int attempts, List<Blocker> blockers,
            boolean blockedByOwnConnection, String blockingAction, Throwable cause) {
        super(message(migration, lockTimeout, attempts, blockers, blockedByOwnConnection, blockingAction), cause);
        this.migration = migration;
        this.lockTimeout = lockTimeout;
        this.attempts = attempts;
        this.blockers = List.copyOf(blockers);
        this.blockedByOwnConnection = blockedByOwnConnection;
        this.blockingAction = blockingAction;
    }

    private static String message(String migration, Duration lockTimeout, int attempts, List<Blocker> blockers,
            boolean blockedByOwnConnection, String blockingAction) {
        String details = "migration=\"" + migration + "\" lock_timeout=" + BlockerText.lockTimeout(lockTimeout)
                + " attempts=" + attempts;
        if (blockedByOwnConnection) {
            return "pgmigrate: migration " + migration + " waited for another connection of its own run until it "
                    + "hit the lock timeout, and is not retried: " + details
                    + "\n" + SelfBlock.OWN_CONNECTION_CAUSE + "\nFix: " + SelfBlock.OWN_CONNECTION_FIX
                    + "\nPostgreSQL rolled the migration back: nothing of it is left and the schema history has no "
                    + "row for it." + BlockerText.list(blockers);
        }
        return "pgmigrate: migration " + migration + " could not get its locks within the lock timeout; "
                + "PostgreSQL rolled back each attempt and no retries are left: " + details
                + BlockerText.list(blockers) + "\n" + advice(blockingAction);
    }

    /** What to do, without suggesting the blocking action already in use. */
    static String advice(String blockingAction) {
        String action = blockingAction == null ? "" : blockingAction;
        return switch (action) {
            case "terminate" -> "The blocking action was already terminate, yet they kept their locks: they are "
                    + "sessions pgmigrate never ends (excluded, protected, or of a role the migration's role may not "
                    + "signal: grant it pg_signal_backend), or prepared transactions. End them yourself, or raise "
                    + "lock-timeout or lock-retries, then migrate again.";
            case "cancel" -> "The blocking action was cancel, which cannot free a session idle in a transaction: "
                    + "use blocking-action=terminate, or end the blocking sessions yourself, or raise lock-timeout "
                    + "or lock-retries, then migrate again.";
            case "show", "none" -> "The blocking action was " + action + ", so pgmigrate left them alone: end the "
                    + "blocking sessions (or use blocking-action=terminate), or raise lock-timeout or lock-retries, "
                    + "then migrate again.";
            case "" -> "End the blocking sessions (or use blocking-action=terminate), or raise lock-timeout or "
                    + "lock-retries, then migrate again.";
            default -> "The blocking action was " + action + " (a custom action): end the blocking sessions, or "
                    + "raise lock-timeout or lock-retries, then migrate again.";
        };
    }

    /** The migration, for example {@code 2 (add email)}. */
    public String migration() {
        return migration;
    }

    /** The configured lock timeout, {@code null} when PostgreSQL's own setting applied. */
    public Duration lockTimeout() {
        return lockTimeout;
    }

    /** How many times the migration was tried. */
    public int attempts() {
        return attempts;
    }

    /** The sessions the watcher saw blocking the migration, over all attempts. */
    public List<Blocker> blockers() {
        return blockers;
    }

    /**
     * Whether the migration waited for another connection of its own run than Flyway's lock connection, for
     * example one its Java code opened through Flyway's DataSource: a deadlock within the run, so it was not
     * retried and no blocking action could have ended it.
     */
    public boolean blockedByOwnConnection() {
        return blockedByOwnConnection;
    }

    /**
     * The blocking action that was in use: {@code terminate}, {@code cancel}, {@code show}, {@code none}, or
     * the class name of a custom {@code BlockingAction}; {@code null} when not known.
     */
    public @Nullable String blockingAction() {
        return blockingAction;
    }
}
