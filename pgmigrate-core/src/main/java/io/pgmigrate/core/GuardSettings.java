package io.pgmigrate.core;

import java.time.Duration;
import java.util.Objects;

import io.pgmigrate.core.internal.Durations;
import io.pgmigrate.core.internal.RetryPolicy;
import org.jspecify.annotations.Nullable;

/**
 * Settings of a guarded run, whatever the migration tool: the watcher's, and the lock timeout and retries of
 * {@link RetryPolicy}.
 *
 * @param watch how the watcher polls and which blockers it leaves alone
 * @param lockTimeout PostgreSQL {@code lock_timeout} for every statement the migration tool runs; {@code null} leaves
 *        PostgreSQL's own setting in place
 * @param lockRetries how often a transactional migration that hit the lock timeout, or whose lock wait was cancelled
 *        because the application queued behind it ({@link WatchSettings#maxApplicationStall()}), is tried again;
 *        zero or more, and above zero only with a lock timeout or a non-zero stall bound
 * @param lockRetryDelay the wait before the first retry; it doubles with each further retry, up to
 *        {@link #MAX_RETRY_DELAY}; zero or positive
 */
public record GuardSettings(WatchSettings watch, @Nullable Duration lockTimeout, int lockRetries, Duration lockRetryDelay) {

    /** The longest wait between two attempts, however many retries came before. */
    public static final Duration MAX_RETRY_DELAY = Duration.ofSeconds(30);

    /** PostgreSQL keeps {@code lock_timeout} as an int of milliseconds. */
    private static final Duration MAX_LOCK_TIMEOUT = Duration.ofMillis(Integer.MAX_VALUE);

    /**
     * Validates the settings, once: every integration relies on these checks.
     * @throws InvalidSettingException naming the setting, what it accepts and the value given
     */
    public GuardSettings {
        Objects.requireNonNull(watch, "watch must not be null");
        if (lockTimeout != null && (lockTimeout.toMillis() < 1 || lockTimeout.compareTo(MAX_LOCK_TIMEOUT) > 0)) {
            throw new InvalidSettingException("lock-timeout", lockTimeout, "lock-timeout must be between 1ms and "
                    + Durations.human(MAX_LOCK_TIMEOUT) + " (PostgreSQL's limit), or unset to keep PostgreSQL's own "
                    + "lock_timeout, was " + Durations.human(lockTimeout),
                    (name) -> "it must be a duration between 1ms and " + Durations.human(MAX_LOCK_TIMEOUT)
                            + ", for example 2s; leave it unset to keep the server's lock_timeout");
        }
        if (lockRetries < 0) {
            throw new InvalidSettingException("lock-retries", lockRetries,
                    "lock-retries must be zero or more, was " + lockRetries,
                    (name) -> "it must be 0 (no retry) or a positive number of retries");
        }
        if (lockRetries > 0 && lockTimeout == null && watch.maxApplicationStall().isZero()) {
            throw new InvalidSettingException("lock-retries", lockRetries, "lock-retries needs lock-timeout or "
                    + "max-application-stall: with neither, a migration waits for its locks and never fails in a way "
                    + "that is retried; set lock-timeout (for example 2s), keep max-application-stall above zero, or "
                    + "set lock-retries to 0, was " + lockRetries,
                    (name) -> "retries need " + name.apply("lock-timeout") + " or "
                            + name.apply("max-application-stall") + ": with no lock timeout and "
                            + "max-application-stall=0 a migration waits for its locks and never fails in a way "
                            + "that is retried; set " + name.apply("lock-timeout") + " (for example 2s), set "
                            + name.apply("max-application-stall") + " above zero (for example 2s), or set "
                            + name.apply("lock-retries") + " to 0");
        }
        if (lockRetryDelay == null || lockRetryDelay.isNegative()) {
            throw new InvalidSettingException("lock-retry-delay", lockRetryDelay, "lock-retry-delay must be zero or "
                    + "positive, was " + (lockRetryDelay == null ? "unset" : Durations.human(lockRetryDelay)),
                    (name) -> "it must be zero or a positive duration, for example 1s");
        }
    }

    /** {@link WatchSettings#defaults()}, no lock timeout of its own, no retries, 1 s before a retry. */
    public static GuardSettings defaults() {
        return new GuardSettings(WatchSettings.defaults(), null, 0, Duration.ofSeconds(1));
    }

    /** A copy with other watch settings. */
    public GuardSettings withWatch(WatchSettings settings) {
        return new GuardSettings(settings, lockTimeout, lockRetries, lockRetryDelay);
    }

    /** A copy with another lock timeout; {@code null} keeps PostgreSQL's own. */
    public GuardSettings withLockTimeout(@Nullable Duration timeout) {
        return new GuardSettings(watch, timeout, lockRetries, lockRetryDelay);
    }

    /** A copy with another number of lock-timeout retries. */
    public GuardSettings withLockRetries(int retries) {
        return new GuardSettings(watch, lockTimeout, retries, lockRetryDelay);
    }

    /** A copy with another delay before the first retry. */
    public GuardSettings withLockRetryDelay(Duration delay) {
        return new GuardSettings(watch, lockTimeout, lockRetries, delay);
    }

    /** The wait before the given retry (1 for the first): the retry delay doubled each time, capped. */
    public Duration retryDelay(int retry) {
        Duration delay = lockRetryDelay;
        for (int i = 1; i < retry && delay.compareTo(MAX_RETRY_DELAY) < 0; i++) {
            delay = delay.multipliedBy(2);
        }
        return delay.compareTo(MAX_RETRY_DELAY) > 0 ? MAX_RETRY_DELAY : delay;
    }
}
