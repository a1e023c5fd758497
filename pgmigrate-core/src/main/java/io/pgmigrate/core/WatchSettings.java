package io.pgmigrate.core;

import java.time.Duration;
import java.util.Set;

import io.pgmigrate.core.internal.Durations;
import io.pgmigrate.core.internal.SessionNames;

/**
 * How the watcher polls and which blockers it leaves alone.
 *
 * @param pollInterval how often the watcher asks PostgreSQL for blockers; from {@link #MIN_POLL_INTERVAL} to 1 h
 * @param minDuration act only on blockers that have held their locks at least this long (see
 *        {@link Blocker#age()} for what is measured); zero acts on every blocker at once
 * @param excludedApplicationNames {@code application_name}s whose sessions are never acted on, compared as
 *        PostgreSQL stores the name: cut to 63 bytes, bytes other than printable ASCII replaced
 * @param excludedUsers roles whose sessions are never acted on, written as in SQL: unquoted names are folded to
 *        lower case, double-quoted names are taken as they are
 * @param maxQueryLength the longest query text kept for a blocker, in characters
 * @param actOnSnapshotWaits whether the action also gets the sessions a watched backend waits for only through a
 *        snapshot ({@code CREATE INDEX CONCURRENTLY} and its kin waiting for older transactions); by default they
 *        are reported once and left alone, since no application query queues behind such a wait
 * @param maxApplicationStall how long a watched backend may keep other sessions queued behind its lock wait,
 *        while no blocker it waits for can be ended, before the watcher cancels the backend's wait; zero never
 *        cancels it
 */
public record WatchSettings(
        Duration pollInterval,
        Duration minDuration,
        Set<String> excludedApplicationNames,
        Set<String> excludedUsers,
        int maxQueryLength,
        boolean actOnSnapshotWaits,
        Duration maxApplicationStall) {

    /** Default poll interval. */
    public static final Duration DEFAULT_POLL_INTERVAL = Duration.ofMillis(25);

    /** The shortest poll interval accepted: shorter ones cost a large part of a core for little gain. */
    public static final Duration MIN_POLL_INTERVAL = Duration.ofMillis(10);

    /** The longest poll interval accepted. */
    public static final Duration MAX_POLL_INTERVAL = Duration.ofHours(1);

    /** Default longest query text kept for a blocker. */
    public static final int DEFAULT_MAX_QUERY_LENGTH = 1000;

    /** Backups, left alone by default: the application names PostgreSQL's own dump tools connect with. */
    public static final Set<String> DEFAULT_EXCLUDED_APPLICATION_NAMES = Set.of("pg_dump", "pg_dumpall");

    /** Default bound on how long a migration may keep the application queued behind a blocker it cannot end. */
    public static final Duration DEFAULT_MAX_APPLICATION_STALL = Duration.ofSeconds(2);

    /**
     * Validates the settings, once: every integration relies on these checks.
     * @throws InvalidSettingException naming the setting, what it accepts and the value given
     */
    public WatchSettings {
        if (pollInterval == null || pollInterval.compareTo(MIN_POLL_INTERVAL) < 0
                || pollInterval.compareTo(MAX_POLL_INTERVAL) > 0) {
            throw new InvalidSettingException("poll-interval", pollInterval, "poll-interval must be between "
                    + Durations.human(MIN_POLL_INTERVAL) + " and 1h, was " + human(pollInterval),
                    (name) -> "it must be a duration between " + Durations.human(MIN_POLL_INTERVAL)
                            + " and 1h, for example 25ms or 1s");
        }
        if (minDuration == null || minDuration.isNegative()) {
            throw new InvalidSettingException("min-duration", minDuration,
                    "min-duration must be zero or positive, was " + human(minDuration),
                    (name) -> "it must be zero or a positive duration, for example 0s, 500ms or 2m");
        }
        if (maxQueryLength < 1) {
            throw new InvalidSettingException("max-query-length", maxQueryLength,
                    "max-query-length must be at least 1, was " + maxQueryLength,
                    (name) -> "it must be a number of characters, at least 1");
        }
        if (maxApplicationStall == null || maxApplicationStall.isNegative()) {
            throw new InvalidSettingException("max-application-stall", maxApplicationStall,
                    "max-application-stall must be zero (never cancel the migration's wait) or positive, was "
                            + human(maxApplicationStall),
                    (name) -> "it must be a positive duration, for example 2s, or 0 to never cancel a migration's "
                            + "wait");
        }
        // kept as written; the watcher compares them as PostgreSQL does (SessionNames)
        excludedApplicationNames = Set.copyOf(SessionNames.requireNames(excludedApplicationNames,
                "exclude-application-names"));
        excludedUsers = Set.copyOf(SessionNames.requireNames(excludedUsers, "exclude-users"));
    }

    private static String human(Duration duration) {
        return duration == null ? "unset" : Durations.human(duration);
    }

    /**
     * Polls every {@link #DEFAULT_POLL_INTERVAL}, acts on every blocker except backups
     * ({@link #DEFAULT_EXCLUDED_APPLICATION_NAMES}) and snapshot holders, and bounds the application's stall by
     * {@link #DEFAULT_MAX_APPLICATION_STALL}.
     */
    public static WatchSettings defaults() {
        return new WatchSettings(DEFAULT_POLL_INTERVAL, Duration.ZERO, DEFAULT_EXCLUDED_APPLICATION_NAMES, Set.of(),
                DEFAULT_MAX_QUERY_LENGTH, false, DEFAULT_MAX_APPLICATION_STALL);
    }

    /** A copy with another poll interval. */
    public WatchSettings withPollInterval(Duration interval) {
        return new WatchSettings(interval, minDuration, excludedApplicationNames, excludedUsers, maxQueryLength,
                actOnSnapshotWaits, maxApplicationStall);
    }

    /** A copy with another minimum duration. */
    public WatchSettings withMinDuration(Duration duration) {
        return new WatchSettings(pollInterval, duration, excludedApplicationNames, excludedUsers, maxQueryLength,
                actOnSnapshotWaits, maxApplicationStall);
    }

    /** A copy with other excluded application names; they replace the default ones. */
    public WatchSettings withExcludedApplicationNames(Set<String> names) {
        return new WatchSettings(pollInterval, minDuration, names, excludedUsers, maxQueryLength, actOnSnapshotWaits,
                maxApplicationStall);
    }

    /** A copy with other excluded users. */
    public WatchSettings withExcludedUsers(Set<String> users) {
        return new WatchSettings(pollInterval, minDuration, excludedApplicationNames, users, maxQueryLength,
                actOnSnapshotWaits, maxApplicationStall);
    }

    /** A copy with another query length limit. */
    public WatchSettings withMaxQueryLength(int length) {
        return new WatchSettings(pollInterval, minDuration, excludedApplicationNames, excludedUsers, length,
                actOnSnapshotWaits, maxApplicationStall);
    }

    /** A copy that does, or does not, hand the sessions a backend waits for through a snapshot to the action. */
    public WatchSettings withActOnSnapshotWaits(boolean act) {
        return new WatchSettings(pollInterval, minDuration, excludedApplicationNames, excludedUsers, maxQueryLength,
                act, maxApplicationStall);
    }

    /** A copy with another bound on the application's stall; zero never cancels a watched backend's wait. */
    public WatchSettings withMaxApplicationStall(Duration stall) {
        return new WatchSettings(pollInterval, minDuration, excludedApplicationNames, excludedUsers, maxQueryLength,
                actOnSnapshotWaits, stall);
    }
}
