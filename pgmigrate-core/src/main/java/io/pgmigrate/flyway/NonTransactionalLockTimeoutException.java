package io.pgmigrate.flyway;

import java.time.Duration;
import java.util.List;

import io.pgmigrate.core.Blocker;
import org.flywaydb.core.api.FlywayException;

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

    /**
     * @param migration the migration, for example {@code 3 (index orders)}
     * @param lockTimeout the configured lock timeout, {@code null} when PostgreSQL's own setting applied
     * @param blockers the sessions seen blocking it
     * @param ownConnection whether one of the blockers is a connection of the same Flyway run
     * @param cause Flyway's exception
     */
    public NonTransactionalLockTimeoutException(String migration, Duration lockTimeout, List<Blocker> blockers,
            boolean ownConnection, Throwable cause) {
        super(message(migration, lockTimeout, blockers, ownConnection), cause);
        this.migration = migration;
        this.lockTimeout = lockTimeout;
        this.blockers = List.copyOf(blockers);
    }

    private static String message(String migration, Duration lockTimeout, List<Blocker> blockers,
            boolean ownConnection) {
        return "pgmigrate: migration " + migration + " hit the lock timeout and is not retried: it does not run in "
                + "a transaction, so PostgreSQL did not roll it back and it may have left partial work (for example "
                + "an INVALID index), and Flyway recorded it as failed in the schema history: migration=\""
                + migration + "\" lock_timeout=" + BlockerText.lockTimeout(lockTimeout) + " attempts=1"
                + BlockerText.list(blockers)
                + (ownConnection ? "\nIt waited for another connection of the same Flyway run: Flyway's "
                        + "transactional advisory lock keeps a transaction open while it migrates, and a concurrent "
                        + "index build waits for it. Set flyway.postgresql.transactional.lock=false "
                        + "(spring.flyway.postgresql.transactional-lock=false)." : "")
                + "\nCheck the schema and clean up what the migration left, run flyway repair to remove the failed "
                + "row, then migrate again.";
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
}
