package io.pgmigrate.core;

import java.time.Instant;
import java.util.List;


/**
 * The summary of one guarded run (one {@code FlywayGuard.migrate} call, say), over all its attempts.
 *
 * @param started when the call started
 * @param finished when it ended
 * @param success whether it returned normally
 * @param migrationsApplied migrations that completed successfully, over all attempts
 * @param backendPids the backend pids that ran migrations, in order of first use
 * @param blockers what the watcher did about each blocker it saw
 * @param failure the failure's message, {@code null} on success
 */
public record MigrationRun(Instant started, Instant finished, boolean success, int migrationsApplied,
        List<Integer> backendPids, List<BlockerReport> blockers, String failure) {

    /** Copies the lists. */
    public MigrationRun {
        backendPids = List.copyOf(backendPids);
        blockers = List.copyOf(blockers);
    }
}
