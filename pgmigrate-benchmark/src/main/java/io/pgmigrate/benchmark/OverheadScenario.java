package io.pgmigrate.benchmark;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

import org.flywaydb.core.Flyway;

/**
 * Scenario 2: what the guard costs when nothing blocks. Each run applies the same small migrations to an
 * empty schema, once with plain Flyway and once under the guard, in alternating order; the figure is the
 * ratio of the two wall times, run by run.
 */
final class OverheadScenario {

    static final String NAME = "overhead";

    private final BenchDatabase database;
    private final BenchmarkOptions options;
    private final Path migrations;
    private int schemaNumber;

    OverheadScenario(BenchDatabase database, BenchmarkOptions options) throws IOException {
        this.database = database;
        this.options = options;
        this.migrations = Files.createTempDirectory("pgmigrate-bench-overhead");
        for (int i = 1; i <= options.overheadMigrations(); i++) {
            Files.writeString(migrations.resolve("V" + i + "__create_table_" + i + ".sql"),
                    "CREATE TABLE t" + i + " (id bigint PRIMARY KEY, name text NOT NULL);\n"
                            + "INSERT INTO t" + i + " VALUES (1, 'first');\n");
        }
    }

    /** Measures plain Flyway against the given guarded migrator. */
    List<Figure> run(Migrator plain, Migrator guarded) throws Exception {
        // one unmeasured round of each warms the JVM, Flyway's class loading and the server's caches
        migrate(plain);
        migrate(guarded);
        List<Double> plainSeconds = new ArrayList<>();
        List<Double> guardedSeconds = new ArrayList<>();
        List<Double> overhead = new ArrayList<>();
        for (int repetition = 0; repetition < options.overheadRuns(); repetition++) {
            double p;
            double g;
            if (repetition % 2 == 0) {
                p = migrate(plain);
                g = migrate(guarded);
            }
            else {
                g = migrate(guarded);
                p = migrate(plain);
            }
            plainSeconds.add(p);
            guardedSeconds.add(g);
            overhead.add((g / p - 1) * 100);
            BenchmarkRunner.progress("overhead run %d/%d: plain %s s, guarded %s s, overhead %s %%",
                    repetition + 1, options.overheadRuns(), Figure.format(p), Figure.format(g),
                    Figure.format((g / p - 1) * 100));
        }
        String configuration = options.overheadMigrations() + " migrations";
        return List.of(
                new Figure(NAME, configuration, "plain Flyway wall time", "s", plainSeconds),
                new Figure(NAME, configuration, "guarded wall time", "s", guardedSeconds),
                new Figure(NAME, configuration, "guard overhead", "%", overhead, "≤ 2"));
    }

    private double migrate(Migrator migrator) throws Exception {
        String schema = "overhead_" + (++schemaNumber);
        try {
            long start = System.nanoTime();
            migrator.migrate(Flyway.configure()
                .dataSource(database.dataSource())
                .schemas(schema)
                .locations("filesystem:" + migrations)
                .cleanDisabled(true), null);
            return (System.nanoTime() - start) / 1e9;
        }
        finally {
            database.execute("DROP SCHEMA IF EXISTS " + schema + " CASCADE");
        }
    }
}
