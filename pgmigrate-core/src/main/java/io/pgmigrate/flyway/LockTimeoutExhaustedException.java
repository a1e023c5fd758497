package io.pgmigrate.flyway;

import java.time.Duration;
import java.util.List;

import io.pgmigrate.core.Blocker;
import org.flywaydb.core.api.FlywayException;

/**
 * Thrown by {@link FlywayGuard#migrate} when a transactional migration hit the lock timeout more often than
 * the retries allow. PostgreSQL rolled back every attempt: nothing of the migration is left in the schema
 * and the schema history has no row for it. The message names the migration, the lock timeout, the
 * attempts and each blocking session the watcher saw.
 */
public class LockTimeoutExhaustedException extends FlywayException {

    private final String migration;
    private final Duration lockTimeout;
    private final int attempts;
    private final List<Blocker> blockers;

    /**
     * @param migration the migration, for example {@code 2 (add email)}
     * @param lockTimeout the configured lock timeout, {@code null} when PostgreSQL's own setting applied
     * @param attempts how many times it was tried
     * @param blockers the sessions seen blocking it, over all attempts
     * @param cause Flyway's exception for the last attempt
     */
    public LockTimeoutExhaustedException(String migration, Duration lockTimeout, int attempts, List<Blocker> blockers,
            Throwable cause) {
        super(message(migration, lockTimeout, attempts, blockers), cause);
        this.migration = migration;
        this.lockTimeout = lockTimeout;
        this.attempts = attempts;
        this.blockers = List.copyOf(blockers);
    }

    private static String message(String migration, Duration lockTimeout, int attempts, List<Blocker> blockers) {
        return "pgmigrate: migration " + migration + " could not get its locks within the lock timeout; "
                + "PostgreSQL rolled back each attempt and no retries are left: migration=\"" + migration
                + "\" lock_timeout=" + BlockerText.lockTimeout(lockTimeout) + " attempts=" + attempts
                + BlockerText.list(blockers)
                + "\nEnd the blocking sessions (or use blocking-action=terminate), or raise lock-timeout or "
                + "lock-retries, then migrate again.";
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
}
