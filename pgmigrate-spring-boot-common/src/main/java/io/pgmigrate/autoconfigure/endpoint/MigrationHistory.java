package io.pgmigrate.autoconfigure.endpoint;

import java.util.ArrayDeque;
import java.util.Deque;
import java.util.List;

import io.pgmigrate.core.WaitCancellation;
import io.pgmigrate.core.GuardListener;
import io.pgmigrate.core.MigrationRun;
import io.pgmigrate.core.SelfBlockedEvent;

/**
 * Keeps the most recent guarded runs, newest first, for the {@code pgmigrate} actuator endpoint: the record each
 * run ends with ({@link MigrationRun}), nothing assembled from other events. Bounded: the
 * oldest run is forgotten when a new one would exceed the capacity.
 */
public final class MigrationHistory implements GuardListener {

    /** How many runs are kept unless told otherwise. */
    public static final int DEFAULT_CAPACITY = 10;

    private final int capacity;

    private final Deque<Entry> runs = new ArrayDeque<>();

    /** A history of the last {@value #DEFAULT_CAPACITY} runs. */
    public MigrationHistory() {
        this(DEFAULT_CAPACITY);
    }

    /**
     * A history of the last {@code capacity} runs.
     * @param capacity how many runs to keep, at least 1
     */
    public MigrationHistory(int capacity) {
        if (capacity < 1) {
            throw new IllegalArgumentException("capacity must be at least 1, was " + capacity);
        }
        this.capacity = capacity;
    }

    @Override
    public synchronized void runFinished(MigrationRun run) {
        this.runs.addFirst(new Entry(run, run.migrations(), run.selfBlocked(), run.waitCancellations()));
        while (this.runs.size() > this.capacity) {
            this.runs.removeLast();
        }
    }

    /** The runs kept, newest first. */
    public synchronized List<Entry> runs() {
        return List.copyOf(this.runs);
    }

    /**
     * One finished run.
     * @param run what the guard reported at its end
     * @param migrations the migrations it started, in order, for example {@code 2 (add email)}
     * @param selfBlocked the migrations that waited for Flyway's own connection (Flyway's transactional advisory
     *        lock), one event each
     * @param waitCancellations the migration lock waits pgmigrate cancelled (the application queued behind them for
     *        longer than {@code pgmigrate.max-application-stall}, or the migrating thread was interrupted), in order
     */
    public record Entry(MigrationRun run, List<String> migrations, List<SelfBlockedEvent> selfBlocked,
            List<WaitCancellation> waitCancellations) {
    }
}
