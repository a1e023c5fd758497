package io.pgmigrate.core;

import java.time.Duration;
import java.util.List;

import org.jspecify.annotations.Nullable;

/**
 * A migration, or a callback of the migration tool, failed because PostgreSQL's {@code lock_timeout} ran out (SQLSTATE 55P03).
 *
 * @param migration the migration, for example {@code 2 (add email)}; for a callback, {@code callback} and its
 *        event, for example {@code callback afterMigrate} (a callback is never retried)
 * @param lockTimeout the configured lock timeout, {@code null} when PostgreSQL's own setting applied
 * @param attempt which attempt of the guarded run failed, 1 for the first
 * @param retried whether the guard tries again (only a migration PostgreSQL rolled back is retried)
 * @param blockersSeen the sessions the watcher saw blocking the migration during this attempt
 */
public record LockTimeoutEvent(String migration, @Nullable Duration lockTimeout, int attempt, boolean retried,
        List<Blocker> blockersSeen) {

    /** Copies the list of blockers. */
    public LockTimeoutEvent {
        blockersSeen = List.copyOf(blockersSeen);
    }
}
