package io.pgmigrate.core;

import java.time.Duration;
import java.util.Objects;
import java.util.Set;

/**
 * How a {@link Watcher} polls and which blockers it leaves alone.
 *
 * @param pollInterval how often the watcher asks PostgreSQL for blockers; positive
 * @param minDuration act only on blockers that have held their locks at least this long (see
 *        {@link Blocker#age()} for what is measured); zero acts on every blocker at once
 * @param excludedApplicationNames {@code application_name}s whose sessions are never acted on (exact match)
 * @param excludedUsers roles whose sessions are never acted on
 * @param maxQueryLength the longest query text kept for a blocker, in characters
 */
public record WatchSettings(
        Duration pollInterval,
        Duration minDuration,
        Set<String> excludedApplicationNames,
        Set<String> excludedUsers,
        int maxQueryLength) {

    /** Default poll interval. */
    public static final Duration DEFAULT_POLL_INTERVAL = Duration.ofMillis(25);

    /** Default longest query text kept for a blocker. */
    public static final int DEFAULT_MAX_QUERY_LENGTH = 1000;

    /** Validates the settings; each error names the setting and what it accepts. */
    public WatchSettings {
        Objects.requireNonNull(pollInterval, "pollInterval must not be null");
        Objects.requireNonNull(minDuration, "minDuration must not be null");
        if (pollInterval.isNegative() || pollInterval.isZero()) {
            throw new IllegalArgumentException("poll-interval must be positive, was " + pollInterval);
        }
        if (pollInterval.compareTo(Duration.ofHours(1)) > 0) {
            throw new IllegalArgumentException("poll-interval must be at most 1h, was " + pollInterval);
        }
        if (minDuration.isNegative()) {
            throw new IllegalArgumentException("min-duration must be zero or positive, was " + minDuration);
        }
        if (maxQueryLength < 1) {
            throw new IllegalArgumentException("max-query-length must be at least 1, was " + maxQueryLength);
        }
        excludedApplicationNames = Set.copyOf(excludedApplicationNames);
        excludedUsers = Set.copyOf(excludedUsers);
    }

    /** Polls every {@link #DEFAULT_POLL_INTERVAL}, acts on every blocker, excludes nobody. */
    public static WatchSettings defaults() {
        return new WatchSettings(DEFAULT_POLL_INTERVAL, Duration.ZERO, Set.of(), Set.of(), DEFAULT_MAX_QUERY_LENGTH);
    }

    /** A copy with another poll interval. */
    public WatchSettings withPollInterval(Duration interval) {
        return new WatchSettings(interval, minDuration, excludedApplicationNames, excludedUsers, maxQueryLength);
    }

    /** A copy with another minimum duration. */
    public WatchSettings withMinDuration(Duration duration) {
        return new WatchSettings(pollInterval, duration, excludedApplicationNames, excludedUsers, maxQueryLength);
    }

    /** A copy with other excluded application names. */
    public WatchSettings withExcludedApplicationNames(Set<String> names) {
        return new WatchSettings(pollInterval, minDuration, names, excludedUsers, maxQueryLength);
    }

    /** A copy with other excluded users. */
    public WatchSettings withExcludedUsers(Set<String> users) {
        return new WatchSettings(pollInterval, minDuration, excludedApplicationNames, users, maxQueryLength);
    }

    /** A copy with another query length limit. */
    public WatchSettings withMaxQueryLength(int length) {
        return new WatchSettings(pollInterval, minDuration, excludedApplicationNames, excludedUsers, length);
    }
}
