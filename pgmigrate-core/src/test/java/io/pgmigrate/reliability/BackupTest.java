package io.pgmigrate.reliability;

import static io.pgmigrate.reliability.Reliability.eventually;
import static io.pgmigrate.reliability.Reliability.flyway;
import static io.pgmigrate.reliability.Reliability.hasColumn;
import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.io.IOException;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.SQLException;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import io.pgmigrate.core.BlockerOutcome;
import io.pgmigrate.core.StandardBlockingAction;
import io.pgmigrate.flyway.FlywayGuard;
import io.pgmigrate.core.GuardSettings;
import io.pgmigrate.flyway.RecordingGuardListener;
import io.pgmigrate.testsupport.PostgresTest;
import io.pgmigrate.testsupport.TestDatabase;
import io.pgmigrate.testsupport.TestSession;
import org.flywaydb.core.api.output.MigrateResult;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A real {@code pg_dump} (Debian's postgresql-client) holds ACCESS SHARE on every table it dumps for the whole
 * dump. A migration that waits for it must not end it: the backup would fail. pg_dump refuses servers newer
 * than itself, so this runs where the server is no newer than the installed pg_dump (CI: the PostgreSQL 14
 * and 15 legs, and checks it ran there).
 */
@PostgresTest
class BackupTest {

    @Test
    void aRunningPgDumpIsLeftAloneAtTheDefaultsAndFinishesItsBackup(TestDatabase db, @TempDir Path dir)
            throws Exception {
        int pgDump = pgDumpMajorVersion();
        int server = ((Number) db.queryValue("SELECT current_setting('server_version_num')::int / 10000")).intValue();
        assumeTrue(pgDump >= server, "pg_dump " + pgDump + " cannot dump PostgreSQL " + server);

        // pg_dump locks the tables in the order of their oids: orders first, then it waits for the gate, which
        // keeps it running, holding its lock on orders, for as long as the test needs
        db.execute("DROP TABLE IF EXISTS orders, zz_gate", "CREATE TABLE orders (id int PRIMARY KEY, total int)",
                "INSERT INTO orders SELECT g, g * 10 FROM generate_series(1, 100) g", "CREATE TABLE zz_gate (id int)");
        TestSession gate = db.session("gate").begin().execute("LOCK TABLE zz_gate IN ACCESS EXCLUSIVE MODE");
        Path dump = dir.resolve("backup.sql");
        Process backup = startPgDump(db, dump);
        try {
            eventually().until(() -> !backup.isAlive() || Reliability.waitsForLock(db, "pg_dump"));
            assertThat(backup.isAlive()).as("pg_dump runs, waiting for the gate").isTrue();
            int dumpPid = db.pidsOf("pg_dump").get(0);

            RecordingGuardListener events = new RecordingGuardListener();
            GuardSettings settings = GuardSettings.defaults();
            CompletableFuture<MigrateResult> run = Reliability.inBackground("backup",
                    () -> new FlywayGuard(settings.withWatch(settings.watch().withPollInterval(
                            java.time.Duration.ofMillis(20))), StandardBlockingAction.TERMINATE, events)
                        .migrate(flyway(db.dataSource(), "reliability_backup", "history_backup").load()));
            eventually().until(() -> !events.reports(BlockerOutcome.EXCLUDED).isEmpty() || run.isDone());
            assertThat(events.reports(BlockerOutcome.EXCLUDED)).singleElement().satisfies((r) -> {
                assertThat(r.blocker().pid()).isEqualTo(dumpPid);
                assertThat(r.detail()).contains("application_name=pg_dump is excluded");
            });
            assertThat(db.isAlive(dumpPid)).isTrue();
            assertThat(run).as("the migration waits for the backup").isNotDone();

            gate.rollback();
            assertThat(backup.waitFor(60, TimeUnit.SECONDS)).isTrue();
            assertThat(backup.exitValue()).as("pg_dump's exit status").isZero();
            assertThat(Files.readString(dump, StandardCharsets.UTF_8)).contains("CREATE TABLE public.orders");
            MigrateResult result = Reliability.finish(run);
            assertThat(result.migrationsExecuted).isEqualTo(1);
            assertThat(hasColumn(db, "public", "orders", "note")).isTrue();
            assertThat(events.terminatedPids()).isEmpty();
        }
        finally {
            backup.destroyForcibly();
        }
    }

    private static Process startPgDump(TestDatabase db, Path file) throws IOException, SQLException {
        URI url = URI.create(db.jdbcUrl().substring("jdbc:".length()));
        ProcessBuilder builder = new ProcessBuilder("pg_dump", "--no-sync", "-h", url.getHost(), "-p",
                String.valueOf(url.getPort()), "-U", db.user(), "-d", db.name(), "-f", file.toString());
        builder.environment().put("PGPASSWORD", db.password());
        builder.redirectErrorStream(true).redirectOutput(file.resolveSibling("pg_dump.log").toFile());
        return builder.start();
    }

    /** The major version of the pg_dump on the PATH; the test cannot run without one. */
    private static int pgDumpMajorVersion() throws IOException, InterruptedException {
        Process version = new ProcessBuilder("pg_dump", "--version").redirectErrorStream(true).start();
        String output = new String(version.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertThat(version.waitFor(30, TimeUnit.SECONDS)).isTrue();
        Matcher matcher = Pattern.compile("(\\d+)\\.").matcher(output);
        assertThat(matcher.find()).as("pg_dump --version: " + output).isTrue();
        return Integer.parseInt(matcher.group(1));
    }
}
