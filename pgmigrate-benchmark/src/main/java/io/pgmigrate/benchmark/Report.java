package io.pgmigrate.benchmark;

import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Objects;
import java.util.stream.Collectors;

import io.pgmigrate.core.WatchSettings;

/**
 * Turns the figures into the published Markdown and CSV, and proposes the default poll interval.
 */
final class Report {

    /** A target of the issue and whether it was met. */
    record Target(String name, String figure, double value, double limit, String unit) {

        boolean met() {
            return !Double.isNaN(value) && value <= limit;
        }
    }

    /** The proposed default and why. */
    record Proposal(Duration interval, String reasoning) {
    }

    /**
     * Watcher cost allowed for the default: this share of one CPU core (server backend plus watcher thread) with
     * 10,000 locks held and a blocker that stays (the scale scenario's worst case: every poll finds it). It is
     * spent only while a migration is blocked by a session the action keeps ({@code show}, {@code none},
     * excluded or not permitted), at most until the lock timeout; with {@code terminate} the blocker is gone
     * after one poll, and a poll that finds no blocker runs {@code pg_blocking_pids()} alone.
     */
    static final double CPU_BUDGET_PERCENT = 30.0;

    /** The application stall the issue allows with the defaults. */
    static final double STALL_TARGET_MILLIS = 50;

    private final List<Figure> figures;
    private final List<Migrator> stallMigrators;
    private final List<ScaleScenario.PollCost> pollCosts;
    private final Map<String, String> environment;

    Report(List<Figure> figures, List<Migrator> stallMigrators, List<ScaleScenario.PollCost> pollCosts,
            Map<String, String> environment) {
        this.figures = List.copyOf(figures);
        this.stallMigrators = List.copyOf(stallMigrators);
        this.pollCosts = List.copyOf(pollCosts);
        this.environment = new LinkedHashMap<>(environment);
    }

    List<Figure> figures() {
        return figures;
    }

    Figure find(String scenario, String configuration, String metric) {
        return figures.stream()
            .filter(f -> f.scenario().equals(scenario) && f.configuration().equals(configuration)
                    && f.metric().equals(metric))
            .findFirst().orElse(null);
    }

    private Figure findStartingWith(String scenario, String configurationPrefix, String metric) {
        return figures.stream()
            .filter(f -> f.scenario().equals(scenario) && f.configuration().startsWith(configurationPrefix)
                    && f.metric().equals(metric))
            .findFirst().orElse(null);
    }

    private static String summary(Figure figure) {
        return figure == null ? "–" : figure.summary();
    }

    private static double median(Figure figure) {
        return figure == null ? Double.NaN : figure.median();
    }

    private static double worst(Figure figure) {
        return figure == null ? Double.NaN : figure.max();
    }

    /** The stall figure of the terminating migrator with this poll interval. */
    Figure stallAt(Duration interval, String metric) {
        return stallMigrators.stream()
            .filter(m -> interval.equals(m.pollInterval()) && !m.name().contains("show") && !m.name().contains("kept"))
            .map(m -> find(StallScenario.NAME, m.name(), metric))
            .filter(Objects::nonNull)
            .findFirst().orElse(null);
    }

    ScaleScenario.PollCost costAt(Duration interval, boolean manyLocks) {
        return pollCosts.stream().filter(c -> c.interval().equals(interval) && c.manyLocks() == manyLocks)
            .findFirst().orElse(null);
    }

    List<Duration> intervals() {
        List<Duration> intervals = new ArrayList<>();
        for (Migrator migrator : stallMigrators) {
            if (migrator.pollInterval() != null && !intervals.contains(migrator.pollInterval())) {
                intervals.add(migrator.pollInterval());
            }
        }
        pollCosts.stream().map(ScaleScenario.PollCost::interval).filter(i -> !intervals.contains(i))
            .forEach(intervals::add);
        intervals.sort(null);
        return intervals;
    }

    /**
     * The longest poll interval whose worst stall run meets the stall target and whose watcher stays within
     * the CPU budget with 10,000 locks held; without one that meets the stall target, the shortest interval
     * within the budget.
     */
    Proposal propose() {
        Duration best = null;
        for (Duration interval : intervals()) {
            double stall = worst(stallAt(interval, "app max latency"));
            ScaleScenario.PollCost cost = costAt(interval, true);
            boolean affordable = cost == null || Double.isNaN(cost.serverCpuPercent())
                    || cost.serverCpuPercent() + nanToZero(cost.clientCpuPercent()) <= CPU_BUDGET_PERCENT;
            if (!Double.isNaN(stall) && stall <= STALL_TARGET_MILLIS && affordable) {
                best = interval;
            }
        }
        String rule;
        if (best == null) {
            rule = "No measured interval kept every run's stall within " + Figure.format(STALL_TARGET_MILLIS)
                    + " ms inside the CPU budget, so the shortest affordable interval is proposed.";
            for (Duration interval : intervals()) {
                ScaleScenario.PollCost cost = costAt(interval, true);
                if (cost == null || Double.isNaN(cost.serverCpuPercent())
                        || cost.serverCpuPercent() + nanToZero(cost.clientCpuPercent()) <= CPU_BUDGET_PERCENT) {
                    best = interval;
                    break;
                }
            }
        }
        else {
            rule = "The longest interval whose worst run kept the application's stall within "
                    + Figure.format(STALL_TARGET_MILLIS) + " ms, and whose watcher costs at most "
                    + Figure.format(CPU_BUDGET_PERCENT) + " % of one CPU core (server backend plus watcher thread) "
                    + "with 10,000 locks held.";
        }
        return new Proposal(best, rule);
    }

    private static double nanToZero(double value) {
        return Double.isNaN(value) ? 0 : value;
    }

    List<Target> targets() {
        List<Target> targets = new ArrayList<>();
        targets.add(new Target("cold start, defaults: app max latency during the blocked migration", "median",
                median(find(ColdStartScenario.NAME, "pgmigrate defaults", "app max latency")), 50, "ms"));
        targets.add(new Target("cold start, defaults: app p99 during the migration window", "median",
                median(find(ColdStartScenario.NAME, "pgmigrate defaults", "app p99 latency")), 10, "ms"));
        targets.add(new Target("warm, defaults: app max latency", "median",
                median(find(StallScenario.NAME, "pgmigrate defaults", "app max latency")), 20, "ms"));
        targets.add(new Target("start-up CPU, nothing to migrate, guard on / off", "median of pairs",
                median(find(ColdStartScenario.STARTUP, "nothing to migrate", "CPU ratio on / off")), 1.02, ""));
        targets.add(new Target("a poll that finds nothing, at the default interval", "backend + thread",
                median(findStartingWith(ScaleScenario.NAME, "nothing blocks", "watcher CPU, backend + thread")), 1,
                "% of a core"));
        Figure stallMax = find(StallScenario.NAME, "pgmigrate defaults", "app max latency");
        targets.add(new Target("defaults: app max latency during a blocked migration", "worst run",
                worst(stallMax), STALL_TARGET_MILLIS, "ms"));
        targets.add(new Target("defaults: app queries failing during a blocked migration", "worst run",
                worst(find(StallScenario.NAME, "pgmigrate defaults", "app errors")), 0, "queries"));
        targets.add(new Target("overhead without blockers", "median",
                median(findStartingWith(OverheadScenario.NAME, "", "guard overhead")), 2, "%"));
        Figure cleared = findStartingWith(ScaleScenario.NAME, "", "blockers cleared after watch()");
        double poll = WatchSettings.DEFAULT_POLL_INTERVAL.toMillis();
        targets.add(new Target("blockers cleared within one poll + 200 ms", "worst run, from watch()",
                worst(cleared), poll + 200, "ms"));
        ScaleScenario.PollCost cost = costAt(WatchSettings.DEFAULT_POLL_INTERVAL, true);
        targets.add(new Target("poll latency with 10,000 locks held", "p99 at the default poll",
                cost == null ? Double.NaN : ScaleScenario.percentile(cost.findMillis(), 99), 5, "ms"));
        return targets;
    }

    String markdown(String command) {
        StringBuilder md = new StringBuilder();
        md.append("# pgmigrate benchmark\n\n");
        md.append("What pgmigrate buys is less downtime: this page measures it. Generated by the benchmark runner ")
            .append("(module `pgmigrate-benchmark`); the figures are also in `benchmark.csv` and drawn in ")
            .append("`benchmark.png`. Run it from the repository root with\n\n```\n").append(command)
            .append("\n```\n\n");
        md.append("Each cell is the median of the runs, with the range (min–max) when they differ.\n\n");
        md.append("## Environment\n\n| | |\n| --- | --- |\n");
        environment.forEach((k, v) -> md.append("| ").append(k).append(" | ").append(v).append(" |\n"));

        coldSection(md);
        md.append("\n## 2. Warm: application stall during a blocked migration, in one JVM\n\n");
        md.append("A table of ").append(String.format(Locale.ROOT, "%,d", StallScenario.ROWS))
            .append(" rows; the application reads one row by primary key from ").append(environment
                .getOrDefault("application load", "several threads"))
            .append("; a session idle in transaction on the table would stay ")
            .append(environment.getOrDefault("blocker", "30 s"))
            .append("; then Flyway adds a column to the table. Latency is measured from the moment each query was ")
            .append("due on its thread's fixed schedule, so a stalled thread charges the stall to every query it ")
            .append("owed (no coordinated omission); the window is the migration's `migrate()` call. The lock wait ")
            .append("starts with the migration (its `ALTER TABLE` waits at once) and ends when the blocker's locks ")
            .append("are released, as seen by a sentinel session waiting on an advisory lock the blocker holds.\n\n");
        md.append("| configuration | app max latency (ms) | app p99 (ms) | app errors | migration wall time (s) "
                + "| lock wait → blocker end (ms) | migration succeeded (runs) |\n");
        md.append("| --- | ---: | ---: | ---: | ---: | ---: | ---: |\n");
        for (Migrator migrator : stallMigrators) {
            String name = migrator.name();
            md.append("| ").append(name);
            for (String metric : List.of("app max latency", "app p99 latency", "app errors", "migration wall time",
                    "lock wait to blocker end")) {
                md.append(" | ").append(summary(find(StallScenario.NAME, name, metric)));
            }
            Figure succeeded = find(StallScenario.NAME, name, "migration succeeded");
            md.append(" | ").append(succeeded == null ? "–"
                    : Figure.format(succeeded.runs().stream().mapToDouble(Double::doubleValue).sum()) + "/"
                            + succeeded.runs().size());
            md.append(" |\n");
        }
        boundedStallText(md);

        md.append("\n## 3. Overhead without blockers\n\n");
        List<Figure> overhead = figures.stream().filter(f -> f.scenario().equals(OverheadScenario.NAME)).toList();
        if (!overhead.isEmpty()) {
            md.append("Small migrations (`CREATE TABLE` + one `INSERT` each) applied to an empty schema, plain ")
                .append("and guarded in alternating order; overhead = guarded / plain − 1, run by run.\n\n");
            md.append("| migrations | plain Flyway (s) | guarded (s) | overhead (%) |\n| --- | ---: | ---: | ---: |\n");
            String configuration = overhead.get(0).configuration();
            md.append("| ").append(configuration).append(" | ")
                .append(summary(find(OverheadScenario.NAME, configuration, "plain Flyway wall time"))).append(" | ")
                .append(summary(find(OverheadScenario.NAME, configuration, "guarded wall time"))).append(" | ")
                .append(summary(find(OverheadScenario.NAME, configuration, "guard overhead"))).append(" |\n");
        }

        startupSection(md);
        md.append("\n## 5. Scale\n\n");
        List<Figure> scale = figures.stream().filter(f -> f.scenario().equals(ScaleScenario.NAME)
                && f.configuration().contains("blockers")).toList();
        if (!scale.isEmpty()) {
            md.append("Sessions idle in transaction block one `ALTER TABLE`; the core watcher, default settings, ")
                .append("starts watching it. \"After watch()\" includes the wait for the first poll.\n\n");
            md.append("| measurement | figure | target |\n| --- | ---: | ---: |\n");
            for (Figure figure : scale) {
                md.append("| ").append(figure.configuration()).append(": ").append(figure.metric()).append(" (")
                    .append(figure.unit()).append(") | ").append(figure.summary()).append(" | ")
                    .append(figure.target().isEmpty() ? "" : figure.target()).append(" |\n");
            }
        }
        if (!pollCosts.isEmpty()) {
            Figure locks = find(ScaleScenario.NAME, "pg_locks rows while measuring", "locks held");
            md.append("\nPoll cost: other sessions hold ").append(locks == null ? "many" : Figure.format(locks.median()))
                .append(" locks (rows of `pg_locks`), the watched backend is blocked by one session that the `none` ")
                .append("action leaves alone, so every poll finds it. Poll query latency is timed at the client, ")
                .append("all rows fetched. Backend CPU comes from `/proc/<pid>/schedstat` of the watcher's ")
                .append("PostgreSQL backend (nanoseconds on a CPU), thread CPU from the JVM; statements are counted ")
                .append("at the client, ")
                .append("commits from `pg_stat_database`.\n\n");
            md.append("| poll interval | other locks | poll query p50 / p99 / max (ms) | watcher backend CPU (% of a core) "
                    + "| watcher thread CPU (% of a core) | statements/s | commits/s |\n");
            md.append("| ---: | ---: | ---: | ---: | ---: | ---: | ---: |\n");
            for (ScaleScenario.PollCost cost : pollCosts) {
                md.append("| ").append(cost.interval().toMillis()).append(" ms | ")
                    .append(cost.manyLocks() ? Figure.format(locks == null ? Double.NaN : locks.median()) : "0")
                    .append(" | ").append(Figure.format(ScaleScenario.percentile(cost.findMillis(), 50)))
                    .append(" / ").append(Figure.format(ScaleScenario.percentile(cost.findMillis(), 99)))
                    .append(" / ").append(Figure.format(ScaleScenario.percentile(cost.findMillis(), 100)))
                    .append(" | ").append(Figure.format(cost.serverCpuPercent()))
                    .append(" | ").append(Figure.format(cost.clientCpuPercent()))
                    .append(" | ").append(Figure.format(cost.statementsPerSecond()))
                    .append(" | ").append(Figure.format(cost.commitsPerSecond())).append(" |\n");
            }
        }

        md.append("\n## Targets\n\n| target | measured | limit | met |\n| --- | ---: | ---: | :---: |\n");
        for (Target target : targets()) {
            String value = Figure.format(target.value());
            if (value.equals(Figure.format(target.limit())) && target.value() != target.limit()) {
                // rounded to the limit's figure, the cell would read as if the limit were met or missed by nothing
                value = String.format(Locale.ROOT, "%.4f", target.value());
            }
            md.append("| ").append(target.name()).append(" (").append(target.figure()).append(") | ")
                .append((value + " " + target.unit()).strip()).append(" | ")
                .append((Figure.format(target.limit()) + " " + target.unit()).strip()).append(" | ")
                .append(Double.isNaN(target.value()) ? "not measured" : target.met() ? "yes" : "**no**")
                .append(" |\n");
        }

        md.append("\n## The default poll interval\n\n");
        md.append("| poll interval | app max latency, stall (ms) | watcher CPU with 10,000 locks (% of a core, "
                + "backend + thread) | poll query p99 with 10,000 locks (ms) |\n| ---: | ---: | ---: | ---: |\n");
        for (Duration interval : intervals()) {
            ScaleScenario.PollCost cost = costAt(interval, true);
            md.append("| ").append(interval.toMillis()).append(" ms | ")
                .append(summary(stallAt(interval, "app max latency"))).append(" | ")
                .append(cost == null ? "–" : Figure.format(cost.serverCpuPercent()) + " + "
                        + Figure.format(cost.clientCpuPercent()))
                .append(" | ")
                .append(cost == null ? "–" : Figure.format(ScaleScenario.percentile(cost.findMillis(), 99)))
                .append(" |\n");
        }
        Proposal proposal = propose();
        md.append("\nRule: ").append(proposal.reasoning()).append("\n\n");
        md.append("**Proposed default: `pgmigrate.poll-interval=")
            .append(proposal.interval() == null ? "?" : proposal.interval().toMillis() + "ms").append("`** (")
            .append("the engine's `WatchSettings.DEFAULT_POLL_INTERVAL` is ")
            .append(WatchSettings.DEFAULT_POLL_INTERVAL.toMillis()).append(" ms today).\n\n");
        md.append(REASONING_MARKER).append("\n");
        return md.toString();
    }

    /** The cold-start table: a fresh JVM per run, as a deploy has it. */
    private void coldSection(StringBuilder md) {
        List<Figure> cold = figures.stream().filter(f -> f.scenario().equals(ColdStartScenario.NAME)).toList();
        if (cold.isEmpty()) {
            return;
        }
        md.append("\n## 1. A deploy: application stall at a cold start\n\n");
        md.append("What a deploy sees. Every run is a fresh JVM that starts a small Spring Boot application with the ")
            .append("starter (Boot's auto-configuration, HikariCP, actuator; `pgmigrate.enabled=false` for plain ")
            .append("Flyway), which applies one migration (`ALTER TABLE ... ADD COLUMN`) at start-up while a session ")
            .append("sits idle in transaction on the table (it would stay ")
            .append(environment.getOrDefault("blocker", "30 s"))
            .append("). The application's load runs in another JVM: ")
            .append(environment.getOrDefault("application load", "several threads"))
            .append(", each query's latency measured from the time it was due on its thread's fixed schedule (no ")
            .append("coordinated omission), recorded in an HdrHistogram. The window is Flyway's run (its ")
            .append("`beforeMigrate` to `afterMigrate` callbacks). The phases are measured from the moment Flyway ")
            .append("sent the `ALTER TABLE` (its `beforeEachMigrateStatement` event; the statement waits at once): ")
            .append("the blocker detected (pgmigrate's first poll that finds it), the signal sent (the terminate ")
            .append("statement returned and its WARN line written), the lock granted and the statement done ")
            .append("(`afterEachMigrate`), committed and Flyway done (`afterMigrate`). Times of the two JVMs compare: ")
            .append("both read Linux's monotonic clock. In the rows \"wait begins later\" the `ALTER TABLE` is the ")
            .append("second statement of the second migration, sent ")
            .append(ColdStartScenario.LATER_WAIT_AFTER.toMillis())
            .append(" ms after its first statement (`SELECT pg_sleep(...)`) began, when the quick polls that ")
            .append("follow the start of a migration are over.\n\n");
        md.append("| configuration | app max latency (ms) | app p99 (ms) | app errors | blocker detected (ms) "
                + "| signal sent (ms) | lock granted (ms) | commit (ms) | longest phase | migration succeeded (runs) |\n");
        md.append("| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | --- | ---: |\n");
        for (ColdStartScenario.Configuration configuration : ColdStartScenario.CONFIGURATIONS) {
            String name = configuration.name();
            md.append("| ").append(name);
            for (String metric : List.of("app max latency", "app p99 latency", "app errors")) {
                md.append(" | ").append(summary(find(ColdStartScenario.NAME, name, metric)));
            }
            for (String phase : ColdStartScenario.PHASES.values()) {
                md.append(" | ").append(summary(find(ColdStartScenario.NAME, name, phase)));
            }
            md.append(" | ").append(longestPhase(name));
            Figure succeeded = find(ColdStartScenario.NAME, name, "migration succeeded");
            md.append(" | ").append(succeeded == null ? "–"
                    : Figure.format(succeeded.runs().stream().mapToDouble(Double::doubleValue).sum()) + "/"
                            + succeeded.runs().size());
            md.append(" |\n");
        }
    }

    /**
     * The phase that takes the most time, by medians: between two consecutive steps that were seen, from the start
     * of the lock wait to the commit (plain Flyway has no detection and no signal: its lock wait runs to the grant).
     */
    String longestPhase(String configuration) {
        String[] names = {"detected", "signal sent", "lock granted", "commit"};
        List<String> phases = List.copyOf(ColdStartScenario.PHASES.values());
        double previous = 0;
        String previousName = "lock wait";
        String longest = "–";
        double most = -1;
        for (int i = 0; i < phases.size(); i++) {
            double at = median(find(ColdStartScenario.NAME, configuration, phases.get(i)));
            if (Double.isNaN(at)) {
                continue;
            }
            if (at - previous > most) {
                most = at - previous;
                longest = previousName + " → " + names[i] + ", " + Figure.format(at - previous) + " ms";
            }
            previous = at;
            previousName = names[i];
        }
        return longest;
    }

    /** Why the default stall bound is 2 s, from the "blocker kept" rows. */
    private void boundedStallText(StringBuilder md) {
        Figure off = findStartingWith(StallScenario.NAME, "pgmigrate blocker kept, max-application-stall off",
                "app max latency");
        String bounded = "pgmigrate blocker kept, max-application-stall 2 s";
        Figure once = find(StallScenario.NAME, bounded, "app max latency");
        Figure retries = findStartingWith(StallScenario.NAME, bounded + " + ", "app max latency");
        if (off == null || once == null || retries == null) {
            return;
        }
        String timeout = environment.getOrDefault("application load", "");
        timeout = timeout.contains("statement timeout ") ? timeout.substring(timeout.indexOf("statement timeout ")
                + "statement timeout ".length()) : "5 s";
        md.append("\n**Why `max-application-stall` is 2 s by default.** In the \"blocker kept\" rows pgmigrate keeps ")
            .append("the blocker (its application name is excluded), so only the bound ends the application's stall. ")
            .append("With the bound off, the application waits for the blocker: worst latency ")
            .append(Figure.format(worst(off))).append(" ms and ")
            .append(Figure.format(worst(errorsOf(off)))).append(" failed queries (worst run) on their ")
            .append(timeout).append(" statement timeout. At 2 s, the watcher cancels the migration's lock wait once ")
            .append("the application has queued behind it for 2 s: worst latency ").append(Figure.format(worst(once)))
            .append(" ms, ").append(Figure.format(worst(errorsOf(once))))
            .append(" failed queries; the bound stays under the application's statement timeout, with room for one ")
            .append("poll and the cancel, so no query fails (the migration gives up instead). With retries, each ")
            .append("retry can stall the application again for up to the bound: worst latency ")
            .append(Figure.format(worst(retries))).append(" ms, p99 ")
            .append(summary(find(StallScenario.NAME, retries.configuration(), "app p99 latency"))).append(" ms, ")
            .append(Figure.format(worst(errorsOf(retries)))).append(" failed queries. A bound at or above the ")
            .append("statement timeout would let the application's queries fail before the watcher acts.\n");
    }

    private Figure errorsOf(Figure latency) {
        return find(latency.scenario(), latency.configuration(), "app errors");
    }

    /** Start-up with nothing to migrate, and a poll that finds nothing. */
    private void startupSection(StringBuilder md) {
        List<Figure> startup = figures.stream().filter(f -> f.scenario().equals(ColdStartScenario.STARTUP)).toList();
        List<Figure> idle = figures.stream().filter(f -> f.scenario().equals(ScaleScenario.NAME)
                && (f.configuration().startsWith("nothing blocks") || f.configuration().startsWith("floor:")))
            .toList();
        if (startup.isEmpty() && idle.isEmpty()) {
            return;
        }
        md.append("\n## 4. Start-up with nothing to migrate, and a poll that finds nothing\n\n");
        if (!startup.isEmpty()) {
            md.append("Most deploys have nothing to migrate. Fresh JVMs start the cold-start application against a ")
                .append("schema that is up to date, in pairs with the guard on and off (alternating which goes first); ")
                .append("wall time is the JVM's uptime when the application is ready, CPU the process's CPU time ")
                .append("then. Ratios and the time added are taken pair by pair.\n\n");
            md.append("| measurement | figure |\n| --- | ---: |\n");
            for (Figure figure : startup) {
                md.append("| ").append(figure.metric()).append(figure.unit().isEmpty() ? "" : " (" + figure.unit() + ")")
                    .append(" | ").append(figure.summary()).append(" |\n");
            }
        }
        if (!idle.isEmpty()) {
            md.append("\nA poll that finds nothing: the watcher watches a session that waits for nothing, at the ")
                .append("default poll interval, in three windows of 10 s (its statements untimed: the timing's ")
                .append("proxies would add CPU of their own to the watcher's thread), then one more window with its ")
                .append("statements timed for the poll's latency. The benchmark's JVM has run every other scenario ")
                .append("by then, so the watcher's code is compiled: a watcher in a fresh JVM spends more on its ")
                .append("thread (see below). Beside each window, the floor: a thread of the benchmark's own waits ")
                .append("the same interval the same way, then sends `SELECT 1` on a connection of its own, for as ")
                .append("long; no poll at that interval can cost less than this round trip.\n\n");
            md.append("| measurement | figure |\n| --- | ---: |\n");
            for (Figure figure : idle) {
                md.append("| ").append(figure.configuration()).append(": ").append(figure.metric()).append(" (")
                    .append(figure.unit()).append(") | ").append(figure.summary()).append(" |\n");
            }
        }
    }

    /** Where the hand-written reasoning, kept across runs, follows in benchmark.md. */
    static final String REASONING_MARKER = "<!-- reasoning: written by hand below this line, kept when the runner "
            + "rewrites the page -->";

    String csv() {
        StringBuilder csv = new StringBuilder("scenario,configuration,metric,unit,median,min,max,runs,target\n");
        for (Figure figure : figures) {
            csv.append(String.join(",", quote(figure.scenario()), quote(figure.configuration()),
                    quote(figure.metric()), quote(figure.unit()), number(figure.median()), number(figure.min()),
                    number(figure.max()),
                    quote(figure.runs().stream().map(Report::number).collect(Collectors.joining(";"))),
                    quote(figure.target()))).append('\n');
        }
        return csv.toString();
    }

    private static String number(double value) {
        return Double.isNaN(value) ? "" : String.format(Locale.ROOT, "%.4f", value);
    }

    private static String quote(String text) {
        return text.contains(",") || text.contains("\"") ? "\"" + text.replace("\"", "\"\"") + "\"" : text;
    }
}
