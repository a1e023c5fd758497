package io.pgmigrate.core;

import java.util.List;
import java.util.function.Consumer;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/** Fans events out to several listeners, each shielded from the others' failures. */
final class CompositeWatchListener implements WatchListener {

    private static final Logger log = LoggerFactory.getLogger(CompositeWatchListener.class);

    private final List<WatchListener> listeners;

    CompositeWatchListener(List<? extends WatchListener> listeners) {
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

    private void each(Consumer<WatchListener> event) {
        for (WatchListener listener : listeners) {
            try {
                event.accept(listener);
            }
            catch (RuntimeException ex) {
                log.warn("pgmigrate listener {} failed; the watcher goes on", listener, ex);
            }
        }
    }
}
