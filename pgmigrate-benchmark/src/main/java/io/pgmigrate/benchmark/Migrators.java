package io.pgmigrate.benchmark;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;

import io.pgmigrate.core.StandardBlockingAction;
import io.pgmigrate.core.WatchSettings;
import io.pgmigrate.core.GuardSettings;

/** The configurations the benchmark compares. */
final class Migrators {

    /** The lock timeout of the {@code show} configuration: the stall it allows per attempt. */
    static final Duration SHOW_LOCK_TIMEOUT = Duration.ofMillis(200);

    /** Retries of the {@code show} configuration: with a 1 s first delay, doubling, they outlast the blocker (10 s). */
    static final int SHOW_RETRIES = 6;

    private Migrators() {
    }

    /** pgmigrate with every default. */
    static Migrator defaults() {
        return new GuardMigrator("pgmigrate defaults", GuardSettings.defaults(), StandardBlockingAction.TERMINATE);
    }

    /** The configurations of the stall scenario: the four, then the other poll intervals compared. */
    static List<Migrator> stall(BenchmarkOptions options) {
        List<Migrator> migrators = new ArrayList<>();
        migrators.add(Migrator.plainFlyway());
        migrators.add(terminating(Duration.ofSeconds(1), "pgmigrate poll 1 s"));
        migrators.add(defaults());
        migrators.add(new GuardMigrator("pgmigrate show + lock timeout " + SHOW_LOCK_TIMEOUT.toMillis() + " ms + "
                + SHOW_RETRIES + " retries", GuardSettings.defaults()
                    .withLockTimeout(SHOW_LOCK_TIMEOUT)
                    .withLockRetries(SHOW_RETRIES)
                    .withLockRetryDelay(Duration.ofSeconds(1)), StandardBlockingAction.SHOW));
        // a blocker pgmigrate keeps (its application name is excluded): the application's stall with the bound off,
        // with the default bound and no retry (the migration gives up), and with the default bound and retries
        migrators.add(keeping("pgmigrate blocker kept, max-application-stall off", Duration.ZERO, 0));
        migrators.add(keeping("pgmigrate blocker kept, max-application-stall 2 s", DEFAULT_STALL, 0));
        migrators.add(keeping("pgmigrate blocker kept, max-application-stall 2 s + " + SHOW_RETRIES + " retries",
                DEFAULT_STALL, SHOW_RETRIES));
        for (Duration interval : options.pollIntervals()) {
            if (!interval.equals(WatchSettings.DEFAULT_POLL_INTERVAL) && !interval.equals(Duration.ofSeconds(1))) {
                migrators.add(terminating(interval, "pgmigrate poll " + interval.toMillis() + " ms"));
            }
        }
        return migrators;
    }

    private static final Duration DEFAULT_STALL = WatchSettings.DEFAULT_MAX_APPLICATION_STALL;

    /** The blocking session's application name in the stall scenario. */
    static final String BLOCKER_APPLICATION_NAME = "bench-blocker";

    private static Migrator keeping(String name, Duration maxApplicationStall, int retries) {
        return new GuardMigrator(name, GuardSettings.defaults()
            .withWatch(WatchSettings.defaults()
                .withExcludedApplicationNames(Set.of(BLOCKER_APPLICATION_NAME))
                .withMaxApplicationStall(maxApplicationStall))
            .withLockRetries(retries)
            .withLockRetryDelay(Duration.ofSeconds(1)), StandardBlockingAction.TERMINATE);
    }

    private static Migrator terminating(Duration interval, String name) {
        return new GuardMigrator(name, GuardSettings.defaults().withWatch(
                WatchSettings.defaults().withPollInterval(interval)), StandardBlockingAction.TERMINATE);
    }
}
