package io.pgmigrate.core.internal;

import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;
import java.util.function.Consumer;

import io.pgmigrate.core.Blocker;
import io.pgmigrate.core.BlockerReport;
import io.pgmigrate.core.GuardListener;
import io.pgmigrate.core.LockTimeoutEvent;
import io.pgmigrate.core.MigrationRun;
import io.pgmigrate.core.SelfBlockedEvent;
import io.pgmigrate.core.WaitCancellation;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Hands every event to several listeners (the log, the run's record, metrics, history, the user's own), in order;
 * one that throws is logged and keeps the event neither from the others nor fails the migration. Fan-outs given
 * to a fan-out are flattened, so a run's events go through one list however its listeners were put together.
 */
public final class FanOut implements GuardListener {

    private static final Logger log = LoggerFactory.getLogger(FanOut.class);

    /** What the WARN line about a listener that threw says: a run's fan-out and a plain watcher's say it as before. */
    private final String failure;

    private final List<GuardListener> listeners;

    public FanOut(List<? extends GuardListener> listeners) {
        this(listeners, "pgmigrate: listener {} failed; the migration goes on");
    }

    /** The fan-out of a {@link Watcher} used on its own, outside a guarded run. */
    static FanOut ofWatcher(List<? extends GuardListener> listeners) {
        return new FanOut(listeners, "pgmigrate listener {} failed; the watcher goes on");
    }

    private FanOut(List<? extends GuardListener> listeners, String failure) {
        this.failure = failure;
        List<GuardListener> flat = new ArrayList<>();
        for (GuardListener listener : listeners) {
            Objects.requireNonNull(listener, "listener");
            if (listener instanceof FanOut fanOut) {
                flat.addAll(fanOut.listeners);
            }
            else {
                flat.add(listener);
            }
        }
        this.listeners = List.copyOf(flat);
    }

    /** Whether the listener writes the operator log lines already (a run's fan-out does), so none is added. */
    static boolean logs(GuardListener listener) {
        return listener instanceof LoggingListener || (listener instanceof FanOut fanOut
                && fanOut.listeners.stream().anyMatch(LoggingListener.class::isInstance));
    }

    /** The listeners events go to, in order. */
    List<GuardListener> listeners() {
        return listeners;
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
        for (GuardListener listener : listeners) {
            try {
                event.accept(listener);
            }
            catch (RuntimeException ex) {
                log.warn(failure, listener, ex);
            }
        }
    }
}
