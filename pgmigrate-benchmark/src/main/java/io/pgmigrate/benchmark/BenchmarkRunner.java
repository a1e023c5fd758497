package io.pgmigrate.benchmark;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;

import io.pgmigrate.testsupport.PostgresServer;

/**
 * Runs the benchmark: application stall, overhead and scale, against the PostgreSQL that
 * {@link PostgresServer#shared()} provides (embedded by default; {@code PGMIGRATE_TEST_JDBC_URL} with
 * {@code PGMIGRATE_TEST_USER} and {@code PGMIGRATE_TEST_PASSWORD} for a running server, whose user must be
 * a superuser). Prints the results as Markdown and writes {@code benchmark.md}, {@code benchmark.csv} and
 * {@code benchmark.png} to the docs directory.
 * <p>
 * Arguments: {@code --quick} (small sizes, results under {@code pgmigrate-benchmark/target/benchmark-quick}),
 * {@code --runs N}, {@code --scenarios cold,startup,stall,overhead,scale,idle}, {@code --docs DIR}.
 */
public final class BenchmarkRunner {

    /** The command that runs the published benchmark, from the repository root. */
    static final String COMMAND = "./mvnw -q -pl pgmigrate-benchmark -am verify -DskipTests -Pbenchmark";

    private static final long STARTED = System.nanoTime();

    /** The scenario that measures a poll that finds nothing. */
    static final String IDLE = "idle";

    /** Every scenario, in the order they run. */
    static final String SCENARIOS = "cold,startup,stall,overhead,scale,idle";

    private BenchmarkRunner() {
    }

    /** Entry point; see the class comment for the arguments. */
    public static void main(String[] args) throws Exception {
        BenchmarkOptions options = BenchmarkOptions.parse(args);
        if (options.quick()) {
            Path root = options.docs().toAbsolutePath().getParent();
            options = options.withDocs(root.resolve("pgmigrate-benchmark/target/benchmark-quick"));
        }
        int status = 0;
        try {
            run(options);
        }
        catch (Exception | Error ex) {
            ex.printStackTrace();
            status = 1;
        }
        // the embedded server stops in a shutdown hook; daemon threads of failed sessions must not keep the JVM
        System.exit(status);
    }

    private static void run(BenchmarkOptions options) throws Exception {
        PostgresServer server = PostgresServer.shared();
        List<Figure> figures = new ArrayList<>();
        List<Migrator> stallMigrators = Migrators.stall(options);
        List<ScaleScenario.PollCost> pollCosts = List.of();
        Map<String, String> environment = new LinkedHashMap<>();
        String loadAtStart = loadAverage();
        try (BenchDatabase database = BenchDatabase.create(server)) {
            environment.put("date", Instant.now().truncatedTo(ChronoUnit.SECONDS).toString());
            environment.put("PostgreSQL", database.version() + " (" + server + ")");
            environment.put("Java", System.getProperty("java.vm.name") + " " + System.getProperty("java.version"));
            environment.put("CPU cores", String.valueOf(Runtime.getRuntime().availableProcessors())
                    + " (shared: client, server and whatever else runs on the machine)");
            environment.put("mode", options.quick() ? "quick (small sizes, not for publishing)"
                    : "full: " + options.runs() + " runs per stall configuration");
            environment.put("application load", options.appThreads() + " threads, one query every "
                    + options.appPeriod().toMillis() + " ms each, statement timeout "
                    + options.appStatementTimeout().toSeconds() + " s");
            environment.put("blocker", options.blockerHold().toSeconds() + " s");
            environment.put("pgmigrate under test", "cold start: the Spring Boot starter; stall and overhead: "
                    + "`io.pgmigrate.flyway.FlywayGuard`; scale: the core `Watcher`");
            if (options.scenarios().contains(ColdStartScenario.NAME)) {
                figures.addAll(new ColdStartScenario(database, options).run());
            }
            if (options.scenarios().contains(ColdStartScenario.STARTUP)) {
                figures.addAll(new ColdStartScenario(database, options).startupPairs());
            }
            if (options.scenarios().contains("stall")) {
                figures.addAll(new StallScenario(database, options).run(stallMigrators));
            }
            if (options.scenarios().contains("overhead")) {
                figures.addAll(new OverheadScenario(database, options).run(Migrator.plainFlyway(),
                        Migrators.defaults()));
            }
            if (options.scenarios().contains("scale")) {
                ScaleScenario scale = new ScaleScenario(database, options);
                figures.addAll(scale.run());
                pollCosts = scale.pollCosts();
            }
            if (options.scenarios().contains(IDLE)) {
                figures.addAll(new ScaleScenario(database, options).pollFindingNothing());
            }
        }
        environment.put("machine load", "load average (1 min) " + loadAtStart + " at the start, " + loadAverage()
                + " at the end (the benchmark's own processes included), on "
                + Runtime.getRuntime().availableProcessors() + " cores shared by the application, its load, PostgreSQL "
                + "and anything else the machine runs, so single runs are noisy; cells are medians of runs");
        if (!options.scenarios().contains("stall")) {
            stallMigrators = List.of();
        }
        Report report = new Report(figures, stallMigrators, pollCosts, environment);
        Files.createDirectories(options.docs());
        Path markdownFile = options.docs().resolve("benchmark.md");
        String markdown = report.markdown(COMMAND);
        String kept = "";
        if (Files.exists(markdownFile)) {
            String previous = Files.readString(markdownFile);
            int marker = previous.indexOf(Report.REASONING_MARKER);
            if (marker >= 0) {
                kept = previous.substring(marker + Report.REASONING_MARKER.length() + 1);
            }
        }
        Files.writeString(markdownFile, markdown + kept);
        Files.writeString(options.docs().resolve("benchmark.csv"), report.csv());
        new Chart(report).write(options.docs().resolve("benchmark.png"));
        System.out.println();
        System.out.println(markdown);
        progress("wrote %s, benchmark.csv and benchmark.png", markdownFile.toAbsolutePath());
    }

    /** The 1-minute load average from {@code /proc/loadavg}, or {@code n/a}. */
    private static String loadAverage() {
        try {
            return Files.readString(Path.of("/proc/loadavg")).split(" ")[0];
        }
        catch (java.io.IOException | RuntimeException ex) {
            return "n/a";
        }
    }

    /** One progress line on standard error, with the time since the start. */
    static void progress(String format, Object... args) {
        System.err.printf(Locale.ROOT, "[%6.1f s] %s%n", (System.nanoTime() - STARTED) / 1e9,
                String.format(Locale.ROOT, format, args));
    }
}
