package io.pgmigrate.autoconfigure;

import java.time.Duration;
import java.util.Arrays;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Set;
import java.util.stream.Collectors;

import io.pgmigrate.core.Durations;
import io.pgmigrate.core.StandardBlockingAction;
import io.pgmigrate.core.WatchSettings;
import io.pgmigrate.flyway.GuardSettings;

import org.springframework.boot.context.properties.source.InvalidConfigurationPropertyValueException;

/**
 * Turns {@link PgMigrateProperties} into the core's settings, checking every value first. An invalid value
 * fails with an {@link InvalidConfigurationPropertyValueException}, which Spring Boot's failure analysis
 * shows as the property, its value, where it was set, and why it is rejected.
 */
final class ValidatedSettings {

    /** PostgreSQL keeps lock_timeout as a 32-bit number of milliseconds. */
    private static final Duration MAX_LOCK_TIMEOUT = Duration.ofMillis(Integer.MAX_VALUE);

    private ValidatedSettings() {
    }

    static GuardSettings from(PgMigrateProperties properties) {
        return new GuardSettings(watchSettings(properties), lockTimeout(properties), lockRetries(properties),
                lockRetryDelay(properties));
    }

    private static WatchSettings watchSettings(PgMigrateProperties properties) {
        blockingAction(properties);
        Duration pollInterval = properties.getPollInterval();
        if (pollInterval == null || pollInterval.compareTo(WatchSettings.MIN_POLL_INTERVAL) < 0
                || pollInterval.compareTo(WatchSettings.MAX_POLL_INTERVAL) > 0) {
            throw invalid("poll-interval", pollInterval, "it must be a duration between "
                    + Durations.human(WatchSettings.MIN_POLL_INTERVAL) + " and 1h, for example 25ms or 1s");
        }
        Duration minDuration = properties.getMinDuration();
        if (minDuration == null || minDuration.isNegative()) {
            throw invalid("min-duration", minDuration,
                    "it must be zero or a positive duration, for example 0s, 500ms or 2m");
        }
        if (properties.getMaxQueryLength() < 1) {
            throw invalid("max-query-length", properties.getMaxQueryLength(),
                    "it must be a number of characters, at least 1");
        }
        Duration maxApplicationStall = properties.getMaxApplicationStall();
        if (maxApplicationStall == null || maxApplicationStall.isNegative()) {
            throw invalid("max-application-stall", maxApplicationStall,
                    "it must be a positive duration, for example 2s, or 0 to never cancel a migration's wait");
        }
        return new WatchSettings(pollInterval, minDuration,
                names("exclude-application-names", properties.getExcludeApplicationNames()),
                names("exclude-users", properties.getExcludeUsers()), properties.getMaxQueryLength(),
                properties.isActOnSnapshotWaits(), maxApplicationStall);
    }

    /**
     * The action {@code pgmigrate.blocking-action} names, in any case; a name it does not know fails naming the
     * accepted values as the documentation writes them.
     */
    static StandardBlockingAction blockingAction(PgMigrateProperties properties) {
        String name = properties.getBlockingAction();
        if (name != null) {
            for (StandardBlockingAction action : StandardBlockingAction.values()) {
                if (action.configName().equalsIgnoreCase(name.trim())) {
                    return action;
                }
            }
        }
        throw invalid("blocking-action", name, "accepted values: " + Arrays.stream(StandardBlockingAction.values())
            .map(StandardBlockingAction::configName)
            .collect(Collectors.joining(", ")));
    }

    private static Set<String> names(String property, List<String> names) {
        Set<String> result = new LinkedHashSet<>();
        if (names == null) {
            return result;
        }
        for (int i = 0; i < names.size(); i++) {
            String name = names.get(i);
            if (name == null || name.isBlank()) {
                throw invalid(property + "[" + i + "]", name, "it must be a name, not blank");
            }
            result.add(name);
        }
        return result;
    }

    private static Duration lockTimeout(PgMigrateProperties properties) {
        Duration lockTimeout = properties.getLockTimeout();
        if (lockTimeout == null) {
            return null;
        }
        if (lockTimeout.compareTo(Duration.ofMillis(1)) < 0 || lockTimeout.compareTo(MAX_LOCK_TIMEOUT) > 0) {
            throw invalid("lock-timeout", lockTimeout, "it must be a duration between 1ms and "
                    + Durations.human(MAX_LOCK_TIMEOUT) + ", for example 2s; leave it unset to keep the server's lock_timeout");
        }
        return lockTimeout;
    }

    private static int lockRetries(PgMigrateProperties properties) {
        int lockRetries = properties.getLockRetries();
        if (lockRetries < 0) {
            throw invalid("lock-retries", lockRetries, "it must be 0 (no retry) or a positive number of retries");
        }
        Duration maxApplicationStall = properties.getMaxApplicationStall();
        if (lockRetries > 0 && properties.getLockTimeout() == null && maxApplicationStall != null
                && maxApplicationStall.isZero()) {
            throw invalid("lock-retries", lockRetries,
                    "retries need pgmigrate.lock-timeout or pgmigrate.max-application-stall: with no lock timeout and "
                            + "max-application-stall=0 a migration waits for its locks and never fails in a way "
                            + "that is retried; set pgmigrate.lock-timeout (for example 2s), set "
                            + "pgmigrate.max-application-stall above zero (for example 2s), or set "
                            + "pgmigrate.lock-retries to 0");
        }
        return lockRetries;
    }

    private static Duration lockRetryDelay(PgMigrateProperties properties) {
        Duration delay = properties.getLockRetryDelay();
        if (delay == null || delay.isNegative()) {
            throw invalid("lock-retry-delay", delay, "it must be zero or a positive duration, for example 1s");
        }
        return delay;
    }

    private static InvalidConfigurationPropertyValueException invalid(String property, Object value, String reason) {
        // a duration as the user writes it (2s), never as Duration.toString() gives it (PT2S)
        Object shown = (value instanceof Duration duration) ? Durations.human(duration) : value;
        return new InvalidConfigurationPropertyValueException("pgmigrate." + property, shown, reason);
    }
}
