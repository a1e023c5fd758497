package io.pgmigrate.benchmark;

import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;

/**
 * What the runner measures and how often. {@link #published()} is the run whose results are published;
 * {@link #smallSizes()} checks the harness in a minute or two with small sizes.
 *
 * @param runs repetitions of each stall configuration
 * @param blockerHold how long the stall scenario's blocker stays idle in transaction unless ended
 * @param warmup application load before the blocker appears
 * @param appThreads application threads
 * @param appPeriod each application thread sends one query per period
 * @param appStatementTimeout the application's statement timeout
 * @param overheadMigrations migrations applied per overhead run
 * @param overheadRuns paired overhead runs
 * @param blockers blocking sessions of the scale scenario
 * @param scaleRuns repetitions of the many-blockers measurement
 * @param locks locks held by other sessions while poll latency is measured
 * @param lockTables tables each lock-holding session locks
 * @param pollIntervals poll intervals compared
 * @param pollWindow how long each poll interval is measured
 * @param scenarios which scenarios run: cold, startup, stall, overhead, scale, idle
 * @param docs where the Markdown, CSV and PNG go
 * @param quick whether this is the quick check
 */
public record BenchmarkOptions(int runs, Duration blockerHold, Duration warmup, int appThreads, Duration appPeriod,
        Duration appStatementTimeout, int overheadMigrations, int overheadRuns, int blockers, int scaleRuns,
        int locks, int lockTables, List<Duration> pollIntervals, Duration pollWindow, Set<String> scenarios,
        Path docs, boolean quick) {

    /** The published run. */
    public static BenchmarkOptions published() {
        // sized so the whole run takes about ten minutes on a 2-core machine: the blocker outlives the application's
        // statement timeout twice over, which is all the plain-Flyway and kept-blocker rows need
        return new BenchmarkOptions(3, Duration.ofSeconds(10), Duration.ofSeconds(1), 4, Duration.ofMillis(10),
                Duration.ofSeconds(5), 200, 7, 1000, 3, 10_000, 200, millis(10, 25, 50, 100, 250, 1000),
                Duration.ofSeconds(5), Set.of(BenchmarkRunner.SCENARIOS.split(",")), Path.of("docs"), false);
    }

    /** Small sizes, for checking the harness. */
    public static BenchmarkOptions smallSizes() {
        return new BenchmarkOptions(1, Duration.ofSeconds(4), Duration.ofMillis(500), 4, Duration.ofMillis(10),
                Duration.ofSeconds(2), 30, 1, 100, 1, 2_000, 100, millis(50), Duration.ofSeconds(2),
                Set.of(BenchmarkRunner.SCENARIOS.split(",")), Path.of("docs"), true);
    }

    /** Pairs of fresh-JVM start-ups, guard on and off, with nothing to migrate. */
    int startupPairs() {
        return quick ? 1 : 12;
    }

    private static List<Duration> millis(long... values) {
        List<Duration> durations = new ArrayList<>();
        for (long value : values) {
            durations.add(Duration.ofMillis(value));
        }
        return List.copyOf(durations);
    }

    /**
     * Reads the command line: {@code --quick}, {@code --runs N},
     * {@code --scenarios cold,startup,stall,overhead,scale,idle}, {@code --docs DIR}.
     */
    public static BenchmarkOptions parse(String... args) {
        boolean quick = List.of(args).contains("--quick");
        BenchmarkOptions options = quick ? smallSizes() : published();
        for (int i = 0; i < args.length; i++) {
            String arg = args[i];
            switch (arg) {
                case "--quick" -> {
                }
                case "--runs" -> options = options.withRuns(Integer.parseInt(value(args, ++i, arg)));
                case "--scenarios" -> options = options.withScenarios(Set.of(value(args, ++i, arg).split(",")));
                case "--docs" -> options = options.withDocs(Path.of(value(args, ++i, arg)));
                default -> throw new IllegalArgumentException("Unknown argument " + arg
                        + "; accepted: --quick, --runs N, --scenarios " + BenchmarkRunner.SCENARIOS + ", --docs DIR");
            }
        }
        return options;
    }

    private static String value(String[] args, int index, String name) {
        if (index >= args.length) {
            throw new IllegalArgumentException(name + " needs a value");
        }
        return args[index];
    }

    BenchmarkOptions withRuns(int value) {
        return new BenchmarkOptions(value, blockerHold, warmup, appThreads, appPeriod, appStatementTimeout,
                overheadMigrations, overheadRuns, blockers, scaleRuns, locks, lockTables, pollIntervals, pollWindow,
                scenarios, docs, quick);
    }

    BenchmarkOptions withScenarios(Set<String> value) {
        return new BenchmarkOptions(runs, blockerHold, warmup, appThreads, appPeriod, appStatementTimeout,
                overheadMigrations, overheadRuns, blockers, scaleRuns, locks, lockTables, pollIntervals, pollWindow,
                Set.copyOf(value), docs, quick);
    }

    BenchmarkOptions withDocs(Path value) {
        return new BenchmarkOptions(runs, blockerHold, warmup, appThreads, appPeriod, appStatementTimeout,
                overheadMigrations, overheadRuns, blockers, scaleRuns, locks, lockTables, pollIntervals, pollWindow,
                scenarios, value, quick);
    }
}
