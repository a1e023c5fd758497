package io.pgmigrate.flyway;

import java.time.Duration;
import java.util.List;

import io.pgmigrate.core.BlockerReport;
import io.pgmigrate.core.GuardSettings;
import io.pgmigrate.core.WaitCancellation;
import io.pgmigrate.core.WatchSettings;
import io.pgmigrate.core.internal.BlockerText;
import io.pgmigrate.core.internal.Durations;
import org.flywaydb.core.api.FlywayException;
import org.jspecify.annotations.Nullable;

/**
 * Thrown by {@link FlywayGuard#migrate} when pgmigrate cancelled a migration's lock wait because the application
 * queued behind it for longer than {@link WatchSettings#maxApplicationStall()}, while the sessions it waited for
 * were kept (excluded, not permitted, too young, only shown, a prepared transaction, ...), and the migration is not
 * tried again: its retries ({@link GuardSettings#lockRetries()}) are used up, or it does not run in a transaction.
 * <p>
 * A transactional migration was rolled back by PostgreSQL on every attempt: nothing of it is left and the schema
 * history has no row for it. One outside a transaction was not rolled back: it may have left partial work (such as
 * an INVALID index, listed by {@link #invalidIndexes()}) and Flyway recorded it as failed. A Flyway callback
 * ({@link #callback()}) is never retried; the migrations applied before it stay applied.
 */
public class ApplicationStallException extends FlywayException {

    private final String migration;
    private final WaitCancellation cancellation;
    private final int attempts;
    private final boolean transactional;
    private final List<String> invalidIndexes;
    private final boolean callback;

    /** What a callback cancelled this way, or interrupted, may have left. */
    static final String CALLBACK_LEFT = "\nThe migrations applied before it stay applied. If the callback ran in a "
            + "transaction (a SQL callback does unless it is marked executeInTransaction=false), PostgreSQL rolled it "
            + "back; otherwise the statements before the one that waited are committed.";

    /**
     * @param migration the migration, for example {@code 2 (add email)}
     * @param cancellation what the watcher saw when it cancelled the last attempt's wait
     * @param attempts how many times it was tried
     * @param transactional whether it ran in a transaction (PostgreSQL rolled it back)
     * @param invalidIndexes for a migration outside a transaction, the INVALID indexes it left (empty when none,
     *        {@code null} when not known); {@code null} for a transactional one
     * @param cause Flyway's exception for the last attempt
     */
    public ApplicationStallException(String migration, WaitCancellation cancellation, int attempts,
            boolean transactional, List<String> invalidIndexes, Throwable cause) {
        this(message(migration, cancellation, attempts, transactional, invalidIndexes), migration, cancellation,
                attempts, transactional, invalidIndexes, false, cause);
    }

    private ApplicationStallException(String message, String step, WaitCancellation cancellation, int attempts,
            boolean transactional, List<String> invalidIndexes, boolean callback, Throwable cause) {
        super(message, cause);
        this.migration = step;
        this.cancellation = cancellation;
        this.attempts = attempts;
        this.transactional = transactional;
        this.invalidIndexes = invalidIndexes == null ? null : List.copyOf(invalidIndexes);
        this.callback = callback;
    }

    /**
     * The failure of a Flyway callback whose lock wait was cancelled this way; callbacks are never retried.
     * @param event the callback's event, for example {@code afterMigrate}
     * @param cancellation what the watcher saw when it cancelled the wait
     * @param migrationsApplied how many migrations this run applied before the callback
     * @param cause Flyway's exception
     */
    static ApplicationStallException ofCallback(String event, WaitCancellation cancellation, int migrationsApplied,
            Throwable cause) {
        StringBuilder message = new StringBuilder("pgmigrate: callback ").append(event)
            .append(" kept the application queued behind its lock wait for longer than max-application-stall, so "
                    + "pgmigrate cancelled the wait; callbacks are not retried: callback=\"").append(event)
            .append("\" max_application_stall=").append(Durations.human(cancellation.maxApplicationStall()))
            .append(" queued_sessions=").append(cancellation.queuedSessions()).append(" migrations_applied=")
            .append(migrationsApplied);
        if (cancellation.waitingFor() != null) {
            message.append(" object=").append(cancellation.waitingFor());
        }
        message.append(CALLBACK_LEFT);
        message.append(kept(cancellation.keptBlockers()));
        message.append("\nEnd the blocking sessions (or let pgmigrate end them: blocking-action=terminate, and take "
                + "them out of exclude-application-names and exclude-users), or raise max-application-stall, then "
                + "run what the callback does again (the next migrate runs it again if Flyway fires it on every "
                + "migrate).");
        return new ApplicationStallException(message.toString(), event, cancellation, 1, false, null, true, cause);
    }

    private static String message(String migration, WaitCancellation cancellation, int attempts,
            boolean transactional, List<String> invalidIndexes) {
        StringBuilder message = new StringBuilder("pgmigrate: migration ").append(migration)
            .append(" kept the application queued behind its lock wait for longer than max-application-stall, so "
                    + "pgmigrate cancelled the wait; ")
            .append(transactional ? "PostgreSQL rolled back each attempt and no retries are left"
                    : "it is not retried")
            .append(": migration=\"").append(migration).append("\" max_application_stall=")
            .append(Durations.human(cancellation.maxApplicationStall())).append(" queued_sessions=")
            .append(cancellation.queuedSessions()).append(" attempts=").append(attempts);
        if (cancellation.waitingFor() != null) {
            message.append(" object=").append(cancellation.waitingFor());
        }
        if (!transactional) {
            message.append(NonTransactionalLockTimeoutException.NOT_ROLLED_BACK);
        }
        message.append(kept(cancellation.keptBlockers()));
        if (transactional) {
            message.append("\nEnd the blocking sessions (or let pgmigrate end them: blocking-action=terminate, and "
                    + "take them out of exclude-application-names and exclude-users), or set lock-retries to try "
                    + "again after a pause, or raise max-application-stall (0 lets the migration, and the "
                    + "application behind it, wait as long as the blockers last), then migrate again.");
        }
        else {
            NonTransactionalLockTimeoutException.appendLeftovers(message, invalidIndexes);
        }
        return message.toString();
    }

    private static String kept(List<BlockerReport> reports) {
        if (reports.isEmpty()) {
            return "\nNo session it waited for was kept: those pgmigrate signalled still held their locks (a "
                    + "terminated session releases them only once its transaction is rolled back).";
        }
        StringBuilder text = new StringBuilder("\nBlocking sessions kept, and why:");
        for (BlockerReport report : reports) {
            text.append("\n  ").append(BlockerText.kept(report));
        }
        return text.toString();
    }

    /** The migration, for example {@code 2 (add email)}; for a {@linkplain #callback() callback}, its event. */
    public String migration() {
        return migration;
    }

    /** Whether the step whose wait was cancelled was a Flyway callback rather than a migration. */
    public boolean callback() {
        return callback;
    }

    /** What the watcher saw when it cancelled the last attempt's wait: the sessions queued, the blockers kept. */
    public WaitCancellation cancellation() {
        return cancellation;
    }

    /** The bound that was exceeded. */
    public Duration maxApplicationStall() {
        return cancellation.maxApplicationStall();
    }

    /** How many times the migration was tried. */
    public int attempts() {
        return attempts;
    }

    /**
     * Whether the migration ran in a transaction, so PostgreSQL rolled it back and nothing of it is left; {@code false}
     * for a callback, whose transaction is not known.
     */
    public boolean transactional() {
        return transactional;
    }

    /**
     * For a migration outside a transaction, the INVALID indexes it left (empty when none); {@code null} for a
     * transactional migration, or when pgmigrate could not tell.
     */
    public @Nullable List<String> invalidIndexes() {
        return invalidIndexes;
    }
}
