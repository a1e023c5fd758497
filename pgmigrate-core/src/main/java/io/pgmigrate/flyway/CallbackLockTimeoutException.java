package io.pgmigrate.flyway;

import java.time.Duration;
import java.util.List;
import java.util.Set;

import io.pgmigrate.core.Blocker;
import io.pgmigrate.core.internal.BlockerText;
import org.flywaydb.core.api.FlywayException;
import org.jspecify.annotations.Nullable;

/**
 * Thrown by {@link FlywayGuard#migrate} when a Flyway callback (a SQL callback such as {@code afterMigrate.sql},
 * or a Java one) hit the lock timeout. It is never retried: calling {@code migrate()} again would not run the
 * same thing again (applied migrations are skipped, so {@code afterMigrateApplied} would not run at all, while
 * {@code beforeMigrate} would run a second time), and pgmigrate cannot see whether the callback ran in a
 * transaction. The migrations applied before it stay applied.
 */
public class CallbackLockTimeoutException extends FlywayException {

    /** The events whose callbacks Flyway runs on every migrate, so the next start-up runs them again. */
    private static final Set<String> EVERY_MIGRATE = Set.of("afterConnect", "beforeValidate", "afterValidate",
            "beforeMigrate", "afterMigrate");

    private final String event;
    private final Duration lockTimeout;
    private final List<Blocker> blockers;
    private final int migrationsApplied;
    private final boolean blockedByOwnConnection;
    private final String blockingAction;

    /**
     * @param event the Flyway event whose callbacks hit the lock timeout, for example {@code afterMigrate}
     * @param lockTimeout the configured lock timeout, {@code null} when PostgreSQL's own setting applied
     * @param blockers the sessions seen blocking the callback
     * @param migrationsApplied the migrations the run applied before, which stay applied
     * @param blockedByOwnConnection whether the callback waited for another connection of its own run
     * @param blockingAction the blocking action in use ({@code terminate}, {@code cancel}, {@code show},
     *        {@code none}, or a custom action's class name), {@code null} when not known
     * @param cause Flyway's exception
     */
    public CallbackLockTimeoutException(String event, Duration lockTimeout, List<Blocker> blockers,
            int migrationsApplied, boolean blockedByOwnConnection, String blockingAction, Throwable cause) {
        super(message(event, lockTimeout, blockers, migrationsApplied, blockedByOwnConnection, blockingAction), cause);
        this.event = event;
        this.lockTimeout = lockTimeout;
        this.blockers = List.copyOf(blockers);
        this.migrationsApplied = migrationsApplied;
        this.blockedByOwnConnection = blockedByOwnConnection;
        this.blockingAction = blockingAction;
    }

    private static String message(String event, Duration lockTimeout, List<Blocker> blockers, int migrationsApplied,
            boolean blockedByOwnConnection, String blockingAction) {
        StringBuilder message = new StringBuilder("pgmigrate: callback ").append(event)
            .append(blockedByOwnConnection ? " waited for another connection of its own run until it hit the lock "
                    + "timeout, and is not retried: " : " hit the lock timeout and is not retried: ")
            .append("callback=\"").append(event).append("\" lock_timeout=")
            .append(BlockerText.lockTimeout(lockTimeout)).append(" migrations_applied=").append(migrationsApplied);
        if (blockedByOwnConnection) {
            message.append("\n").append(SelfBlock.OWN_CONNECTION_CAUSE).append("\nFix: ")
                .append(SelfBlock.OWN_CONNECTION_FIX);
        }
        message.append("\nThe migrations applied before it stay applied. If the callback ran in a transaction (a SQL "
                + "callback does unless it is marked executeInTransaction=false), PostgreSQL rolled it back; "
                + "otherwise the statements before the one that waited are committed.");
        message.append(BlockerText.list(blockers));
        if (EVERY_MIGRATE.contains(event)) {
            message.append("\nFlyway runs ").append(event).append(" callbacks on every migrate, so the next start "
                    + "runs it again.");
        }
        else {
            message.append("\nFlyway may not run ").append(event).append(" callbacks again (").append(event)
                .append(" fires only in some runs): once the blockers are gone, run what it does yourself.");
        }
        if (!blockedByOwnConnection) {
            message.append("\n").append(LockTimeoutExhaustedException.advice(blockingAction));
        }
        return message.toString();
    }

    /** The Flyway event whose callbacks hit the lock timeout, for example {@code afterMigrate}. */
    public String event() {
        return event;
    }

    /** The configured lock timeout, {@code null} when PostgreSQL's own setting applied. */
    public Duration lockTimeout() {
        return lockTimeout;
    }

    /** The sessions the watcher saw blocking the callback. */
    public List<Blocker> blockers() {
        return blockers;
    }

    /** The migrations the run applied before the callback failed; they stay applied. */
    public int migrationsApplied() {
        return migrationsApplied;
    }

    /** Whether the callback waited for another connection of its own run: a deadlock within the run. */
    public boolean blockedByOwnConnection() {
        return blockedByOwnConnection;
    }

    /** Whether Flyway runs the callbacks of this event on every migrate, so the next start runs them again. */
    public boolean runsAgainOnNextMigrate() {
        return EVERY_MIGRATE.contains(event);
    }

    /**
     * The blocking action that was in use: {@code terminate}, {@code cancel}, {@code show}, {@code none}, or
     * the class name of a custom {@code BlockingAction}; {@code null} when not known.
     */
    public @Nullable String blockingAction() {
        return blockingAction;
    }
}
