package io.pgmigrate.flyway;

import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.function.Consumer;

import io.pgmigrate.core.Blocker;
import io.pgmigrate.core.BlockerReport;
import io.pgmigrate.core.WaitCancellation;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Hands every event of a guarded run to several listeners (metrics, history, the user's own), in order; one
 * that throws is logged and does not keep the event from the others or fail the migration.
 */
final class CompositeGuardListener implements GuardListener {

    private static final Logger log = LoggerFactory.getLogger(CompositeGuardListener.class);

    private final List<GuardListener> listeners;

    CompositeGuardListener(List<? extends GuardListener> listeners) {
        this.listeners = List.copyOf(listeners);
    }

    @Override
    public void blockersDetected(List<Blocker> blockers) {
        each((listener) -> listener.blockersDetected(blockers));
    }

    @Override
    public void blockerHandled(BlockerReport report) {
        each((listener) -> listener.blockerHandled(report));
    }

    @Override
    public void waitCancelled(WaitCancellation event) {
        each((listener) -> listener.waitCancelled(event));
    }

    @Override
    public void watcherFailed(Exception error) {
        each((listener) -> listener.watcherFailed(error));
    }

    @Override
    public void runStarted(Instant started) {
        each((listener) -> listener.runStarted(started));
    }

    @Override
    public void migrationStarted(int backendPid, String migration) {
        each((listener) -> listener.migrationStarted(backendPid, migration));
    }

    @Override
    public void migrationFinished(String migration, boolean success, Duration lockWait) {
        each((listener) -> listener.migrationFinished(migration, success, lockWait));
    }

    @Override
    public void lockTimeout(LockTimeoutEvent event) {
        each((listener) -> listener.lockTimeout(event));
    }

    @Override
    public void selfBlocked(SelfBlockedEvent event) {
        each((listener) -> listener.selfBlocked(event));
    }

    @Override
    public void runFinished(MigrationRun run) {
        each((listener) -> listener.runFinished(run));
    }

    private void each(Consumer<GuardListener> event) {
        for (GuardListener listener : this.listeners) {
            try {
                event.accept(listener);
            }
            catch (RuntimeException ex) {
                log.warn("pgmigrate: listener {} failed; the migration goes on", listener, ex);
            }
        }
    }
}
