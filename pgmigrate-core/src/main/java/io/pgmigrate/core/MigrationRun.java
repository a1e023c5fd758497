package io.pgmigrate.core;

import java.time.Instant;
import java.util.List;

import org.jspecify.annotations.Nullable;

/**
 * The complete record of one guarded run (one {@code FlywayGuard.migrate} call, say), over all its attempts: what
 * the listeners saw during the run, in one place.
 *
 * @param started when the call started
 * @param finished when it ended
 * @param success whether it returned normally
 * @param migrationsApplied migrations that completed successfully, over all attempts
 * @param backendPids the backend pids that ran migrations, in order of first use
 * @param blockers what the watcher did about each blocker it saw
 * @param failure the failure's message, {@code null} on success
 * @param migrations the migrations started, in order, each once, for example {@code 2 (add email)}
 * @param selfBlocked the migrations that waited for a connection of their own run, one event each
 * @param lockTimeouts the steps that hit the lock timeout, in order, retried or not
 * @param waitCancellations the lock waits the watcher cancelled (the application queued behind them for longer
 *        than max-application-stall, or the migrating thread was interrupted), in order
 */
public record MigrationRun(Instant started, Instant finished, boolean success, int migrationsApplied,
        List<Integer> backendPids, List<BlockerReport> blockers, @Nullable String failure, List<String> migrations,
        List<SelfBlockedEvent> selfBlocked, List<LockTimeoutEvent> lockTimeouts,
        List<WaitCancellation> waitCancellations) {

    /** Copies the lists. */
    public MigrationRun {
        backendPids = List.copyOf(backendPids);
        blockers = List.copyOf(blockers);
        migrations = List.copyOf(migrations);
        selfBlocked = List.copyOf(selfBlocked);
        lockTimeouts = List.copyOf(lockTimeouts);
        waitCancellations = List.copyOf(waitCancellations);
    }
}
