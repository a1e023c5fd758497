package io.pgmigrate.benchmark;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.function.ToDoubleFunction;

import io.pgmigrate.benchmark.coldapp.ColdApp;

/**
 * Scenario "cold": what a deploy sees. Every run starts a fresh JVM with a small Spring Boot application and the
 * pgmigrate starter ({@link ColdApp}), while the application's load runs in another JVM ({@link LoadProcess}) and
 * a session sits idle in transaction on the table the migration alters. Side by side: plain Flyway (the guard
 * off), pgmigrate at the defaults, pgmigrate with a 1 s poll.
 * <p>
 * Also the start-up cost of the guard when there is nothing to migrate: fresh JVMs in pairs, guard on and off.
 */
final class ColdStartScenario {

    static final String NAME = "cold";
    static final String STARTUP = "startup";

    /**
     * A configuration of the application: its name in the report, the properties it adds, and whether the lock wait
     * begins later in the run: in the second statement of the second migration instead of the first statement of
     * the first, when the quick polls that follow the start of a step are over.
     */
    record Configuration(String name, List<String> properties, boolean later) {
    }

    static final List<Configuration> CONFIGURATIONS = List.of(
            new Configuration("plain Flyway", List.of("--pgmigrate.enabled=false"), false),
            new Configuration("pgmigrate defaults", List.of(), false),
            new Configuration("pgmigrate poll 1 s", List.of("--pgmigrate.poll-interval=1s"), false),
            new Configuration("pgmigrate defaults, wait begins later", List.of(), true),
            new Configuration("pgmigrate poll 1 s, wait begins later", List.of("--pgmigrate.poll-interval=1s"), true));

    /** How long the later migration works before its {@code ALTER TABLE}: longer than the quick polls. */
    static final Duration LATER_WAIT_AFTER = Duration.ofMillis(300);

    /** The phases of the migration, from the moment its statement started to wait for its lock. */
    static final Map<String, String> PHASES = phases();

    private static Map<String, String> phases() {
        Map<String, String> phases = new java.util.LinkedHashMap<>();
        phases.put("detected", "blocker detected");
        phases.put("signalled", "signal sent");
        phases.put("afterEachMigrate", "lock granted, statement done");
        phases.put("afterMigrate", "committed, Flyway done");
        return phases;
    }

    private final BenchDatabase database;
    private final BenchmarkOptions options;
    private final Path work;
    private final Path migrations;
    private final Path laterMigrations;
    private int runNumber;

    ColdStartScenario(BenchDatabase database, BenchmarkOptions options) throws IOException {
        this.database = database;
        this.options = options;
        this.work = Files.createTempDirectory("pgmigrate-bench-cold");
        this.migrations = Files.createDirectories(work.resolve("migrations"));
        Files.writeString(migrations.resolve("V1__add_note_to_items.sql"),
                "ALTER TABLE items ADD COLUMN note text;\n");
        this.laterMigrations = Files.createDirectories(work.resolve("later-migrations"));
        Files.writeString(laterMigrations.resolve("V1__create_audit.sql"),
                "CREATE TABLE audit (id bigint PRIMARY KEY, at timestamptz NOT NULL);\n");
        Files.writeString(laterMigrations.resolve("V2__backfill_then_add_note.sql"),
                "SELECT pg_sleep(" + LATER_WAIT_AFTER.toMillis() / 1000.0 + ");\n"
                        + "ALTER TABLE items ADD COLUMN note text;\n");
    }

    /** One run of one configuration. */
    record Run(double maxMillis, double p99Millis, int errors, Map<String, Double> phases, boolean migrated,
            double startupMillis) {
    }

    List<Figure> run() throws Exception {
        List<Figure> figures = new ArrayList<>();
        List<List<Run>> runs = new ArrayList<>();
        CONFIGURATIONS.forEach(c -> runs.add(new ArrayList<>()));
        for (int repetition = 0; repetition < options.runs(); repetition++) {
            for (int i = 0; i < CONFIGURATIONS.size(); i++) {
                Configuration configuration = CONFIGURATIONS.get(i);
                Run run = runOnce(configuration);
                runs.get(i).add(run);
                BenchmarkRunner.progress("cold %-20s run %d/%d: max %s ms, p99 %s ms, errors %d, phases %s%s",
                        configuration.name(), repetition + 1, options.runs(), Figure.format(run.maxMillis()),
                        Figure.format(run.p99Millis()), run.errors(), run.phases(),
                        run.migrated() ? "" : " (migration failed)");
            }
        }
        for (int i = 0; i < CONFIGURATIONS.size(); i++) {
            String name = CONFIGURATIONS.get(i).name();
            List<Run> measured = runs.get(i);
            figures.add(new Figure(NAME, name, "app max latency", "ms", values(measured, Run::maxMillis),
                    "≤ 50 (defaults)"));
            figures.add(new Figure(NAME, name, "app p99 latency", "ms", values(measured, Run::p99Millis),
                    "≤ 10 (defaults)"));
            figures.add(new Figure(NAME, name, "app errors", "queries", values(measured, r -> r.errors())));
            for (Map.Entry<String, String> phase : PHASES.entrySet()) {
                figures.add(new Figure(NAME, name, phase.getValue(), "ms",
                        values(measured, r -> r.phases().getOrDefault(phase.getKey(), Double.NaN))));
            }
            figures.add(new Figure(NAME, name, "migration succeeded", "runs",
                    values(measured, r -> r.migrated() ? 1 : 0)));
        }
        return figures;
    }

    private static List<Double> values(List<Run> runs, ToDoubleFunction<Run> metric) {
        return runs.stream().map(r -> metric.applyAsDouble(r)).toList();
    }

    private Run runOnce(Configuration configuration) throws Exception {
        String schema = "cold_" + (++runNumber);
        String table = schema + ".items";
        createTable(schema, table);
        Path queries = work.resolve(schema + "-queries.txt");
        Process load = java(LoadProcess.class.getName(), List.of(database.server().jdbcUrl(database.name()),
                database.server().user(), database.server().password(), table, String.valueOf(StallScenario.ROWS),
                String.valueOf(options.appThreads()), String.valueOf(options.appPeriod().toMillis()),
                String.valueOf(options.appStatementTimeout().toMillis()), queries.toString()), null);
        Connection blocker = null;
        try {
            awaitLine(load, LoadProcess.READY);
            // the load's own JVM warms up before the migration starts
            Thread.sleep(Math.max(2000, options.warmup().toMillis()));
            blocker = database.connect(Migrators.BLOCKER_APPLICATION_NAME);
            blocker.setAutoCommit(false);
            try (Statement statement = blocker.createStatement()) {
                statement.execute("SELECT count(*) FROM " + table + " WHERE id <= 10");
            }
            Connection held = blocker;
            Thread holder = new Thread(() -> commitAfterWaitStarts(held, table, options.blockerHold()),
                    "pgmigrate-bench-blocker");
            holder.setDaemon(true);
            holder.start();
            Thread.sleep(500);

            Path output = work.resolve(schema + "-app.log");
            List<String> properties = new ArrayList<>(appProperties(schema,
                    configuration.later() ? laterMigrations : migrations));
            properties.addAll(configuration.properties());
            Process app = java(ColdApp.class.getName(), properties, output);
            boolean exited = app.waitFor(options.blockerHold().toSeconds() + 180, TimeUnit.SECONDS);
            if (!exited) {
                app.destroyForcibly();
            }
            Thread.sleep(200);
            load.getOutputStream().close();
            if (!load.waitFor(60, TimeUnit.SECONDS)) {
                load.destroyForcibly();
            }
            Map<String, Long> phases = readPhases(output);
            // the ALTER TABLE waits as soon as it is sent
            Long lockWaitStart = phases.get(ColdApp.ALTER_STATEMENT);
            Long from = phases.get("beforeMigrate");
            Long to = phases.get("afterMigrate");
            boolean migrated = exited && app.exitValue() == 0 && to != null;
            if (!migrated) {
                BenchmarkRunner.progress("cold %s: the application failed; its output is in %s", configuration.name(),
                        output);
            }
            AppLoad.Window window = from == null || to == null ? null
                    : AppLoad.window(LoadProcess.read(queries), from, to);
            Map<String, Double> phaseMillis = new HashMap<>();
            for (String phase : PHASES.keySet()) {
                Long at = phases.get(phase);
                if (at != null && lockWaitStart != null) {
                    phaseMillis.put(phase, (at - lockWaitStart) / 1e6);
                }
            }
            return new Run(window == null ? Double.NaN : window.maxMillis(),
                    window == null ? Double.NaN : window.p99Millis(), window == null ? 0 : window.errors(),
                    phaseMillis, migrated, Double.NaN);
        }
        finally {
            load.destroy();
            if (blocker != null) {
                try {
                    blocker.close();
                }
                catch (SQLException ex) {
                    // terminated by pgmigrate
                }
            }
            database.terminateOthers();
            database.execute("DROP SCHEMA " + schema + " CASCADE");
        }
    }

    private void createTable(String schema, String table) throws SQLException {
        database.execute("CREATE SCHEMA " + schema,
                "CREATE TABLE " + table + " (id bigint PRIMARY KEY, val int NOT NULL, payload text NOT NULL)",
                "INSERT INTO " + table + " SELECT g, g % 1000, md5(g::text) FROM generate_series(1, "
                        + StallScenario.ROWS + ") AS g",
                "ANALYZE " + table);
    }

    /**
     * Commits the blocker's transaction once it has blocked the migration for the hold: the application's start-up
     * takes seconds, the hold counts from the moment the migration's statement waits for its lock.
     */
    private void commitAfterWaitStarts(Connection connection, String table, Duration hold) {
        try (Connection monitor = database.connect("bench-monitor");
                java.sql.PreparedStatement waiting = monitor.prepareStatement("SELECT count(*) FROM pg_locks "
                        + "WHERE relation = ?::regclass AND mode = 'AccessExclusiveLock' AND NOT granted")) {
            waiting.setString(1, table);
            long deadline = System.nanoTime() + TimeUnit.MINUTES.toNanos(3);
            while (System.nanoTime() < deadline && !connection.isClosed()) {
                try (java.sql.ResultSet rows = waiting.executeQuery()) {
                    rows.next();
                    if (rows.getLong(1) > 0) {
                        break;
                    }
                }
                Thread.sleep(10);
            }
            Thread.sleep(hold.toMillis());
            connection.commit();
        }
        catch (InterruptedException ex) {
            Thread.currentThread().interrupt();
        }
        catch (SQLException ex) {
            // terminated by pgmigrate, or closed at the end of the run
        }
    }

    private List<String> appProperties(String schema, Path migrations) {
        return List.of("--spring.datasource.url=" + database.server().jdbcUrl(database.name()),
                "--spring.datasource.username=" + database.server().user(),
                "--spring.datasource.password=" + database.server().password(),
                "--spring.flyway.schemas=" + schema,
                "--spring.flyway.locations=filesystem:" + migrations,
                "--spring.flyway.baseline-on-migrate=true",
                "--spring.flyway.baseline-version=0",
                "--logging.config=classpath:coldapp-logback.xml");
    }

    // ---------------------------------------------------------------- start-up with nothing to migrate

    /** One fresh JVM's start-up: to the application's context ready. */
    record Startup(double uptimeMillis, double cpuMillis) {
    }

    /** Fresh-JVM start-ups in pairs, guard on and off, against a schema with nothing to migrate. */
    List<Figure> startupPairs() throws Exception {
        String schema = "cold_idle";
        createTable(schema, schema + ".items");
        try {
            // the migration is applied once; every measured start finds nothing to migrate
            startOnce(schema, true);
            List<Double> on = new ArrayList<>();
            List<Double> off = new ArrayList<>();
            List<Double> onCpu = new ArrayList<>();
            List<Double> offCpu = new ArrayList<>();
            List<Double> cpuRatio = new ArrayList<>();
            List<Double> wallRatio = new ArrayList<>();
            List<Double> added = new ArrayList<>();
            for (int pair = 0; pair < options.startupPairs(); pair++) {
                boolean guardFirst = pair % 2 == 0;
                Startup first = startOnce(schema, guardFirst);
                Startup second = startOnce(schema, !guardFirst);
                Startup guarded = guardFirst ? first : second;
                Startup plain = guardFirst ? second : first;
                on.add(guarded.uptimeMillis());
                off.add(plain.uptimeMillis());
                onCpu.add(guarded.cpuMillis());
                offCpu.add(plain.cpuMillis());
                cpuRatio.add(guarded.cpuMillis() / plain.cpuMillis());
                wallRatio.add(guarded.uptimeMillis() / plain.uptimeMillis());
                added.add(guarded.uptimeMillis() - plain.uptimeMillis());
                BenchmarkRunner.progress("start-up pair %d/%d: guard on %s ms (CPU %s ms), off %s ms (CPU %s ms)",
                        pair + 1, options.startupPairs(), Figure.format(guarded.uptimeMillis()),
                        Figure.format(guarded.cpuMillis()), Figure.format(plain.uptimeMillis()),
                        Figure.format(plain.cpuMillis()));
            }
            String configuration = "nothing to migrate";
            return List.of(new Figure(STARTUP, configuration, "start-up wall time, guard on", "ms", on),
                    new Figure(STARTUP, configuration, "start-up wall time, guard off", "ms", off),
                    new Figure(STARTUP, configuration, "start-up CPU, guard on", "ms", onCpu),
                    new Figure(STARTUP, configuration, "start-up CPU, guard off", "ms", offCpu),
                    new Figure(STARTUP, configuration, "CPU ratio on / off", "", cpuRatio, "≤ 1.02"),
                    new Figure(STARTUP, configuration, "wall-time ratio on / off", "", wallRatio),
                    new Figure(STARTUP, configuration, "wall time added by the guard", "ms", added));
        }
        finally {
            database.execute("DROP SCHEMA " + schema + " CASCADE");
        }
    }

    private Startup startOnce(String schema, boolean guard) throws Exception {
        Path output = work.resolve("startup-" + System.nanoTime() + ".log");
        List<String> properties = new ArrayList<>(appProperties(schema, migrations));
        properties.add("--pgmigrate.enabled=" + guard);
        Process app = java(ColdApp.class.getName(), properties, output);
        if (!app.waitFor(180, TimeUnit.SECONDS) || app.exitValue() != 0) {
            app.destroyForcibly();
            throw new IllegalStateException("the application did not start; its output is in " + output);
        }
        for (String line : Files.readAllLines(output)) {
            if (line.startsWith(ColdApp.PREFIX + "ready ")) {
                Map<String, String> values = new HashMap<>();
                for (String field : line.split(" ")) {
                    int equals = field.indexOf('=');
                    if (equals > 0) {
                        values.put(field.substring(0, equals), field.substring(equals + 1));
                    }
                }
                return new Startup(Double.parseDouble(values.get("uptimeMillis")),
                        Long.parseLong(values.get("cpuNanos")) / 1e6);
            }
        }
        throw new IllegalStateException("the application printed no ready line; its output is in " + output);
    }

    // ---------------------------------------------------------------- processes

    /** Starts a JVM on this JVM's class path; its output goes to the file, or stays readable when null. */
    private static Process java(String mainClass, List<String> args, Path output) throws IOException {
        List<String> command = new ArrayList<>();
        command.add(Path.of(System.getProperty("java.home"), "bin", "java").toString());
        command.add("-Xmx512m");
        command.add("-cp");
        command.add(System.getProperty("java.class.path"));
        command.add(mainClass);
        command.addAll(args);
        ProcessBuilder builder = new ProcessBuilder(command).redirectErrorStream(true);
        if (output != null) {
            builder.redirectOutput(output.toFile());
        }
        return builder.start();
    }

    private static void awaitLine(Process process, String expected) throws IOException {
        BufferedReader reader = new BufferedReader(new InputStreamReader(process.getInputStream(),
                StandardCharsets.UTF_8));
        String line;
        while ((line = reader.readLine()) != null) {
            if (line.equals(expected)) {
                // the rest of its output is not read: drain it so the process never blocks on a full pipe
                Thread drain = new Thread(() -> {
                    try {
                        while (reader.readLine() != null) {
                            // discarded
                        }
                    }
                    catch (IOException ex) {
                        // the process ended
                    }
                }, "pgmigrate-bench-drain");
                drain.setDaemon(true);
                drain.start();
                return;
            }
        }
        throw new IllegalStateException("the load process ended before it ran");
    }

    /**
     * When each phase happened: the first time it was printed, except that the phases of the lock wait are the
     * first ones at or after the start of the {@code ALTER TABLE} (an earlier migration has its own
     * {@code afterEachMigrate}).
     */
    private static Map<String, Long> readPhases(Path output) throws IOException {
        List<String[]> lines = new ArrayList<>();
        Long alter = null;
        for (String line : Files.readAllLines(output)) {
            if (line.startsWith(ColdApp.PREFIX)) {
                String[] fields = line.substring(ColdApp.PREFIX.length()).split(" ");
                lines.add(fields);
                if (alter == null && fields[0].equals(ColdApp.ALTER_STATEMENT)) {
                    alter = Long.parseLong(fields[1]);
                }
            }
        }
        Map<String, Long> phases = new HashMap<>();
        for (String[] fields : lines) {
            long at = Long.parseLong(fields[1]);
            if (PHASES.containsKey(fields[0]) && alter != null && at < alter) {
                continue;
            }
            phases.putIfAbsent(fields[0], at);
        }
        return phases;
    }
}
