package io.pgmigrate.flyway.tools;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.Paths;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

import io.pgmigrate.testsupport.PostgresTest;
import io.pgmigrate.testsupport.TestDatabase;
import io.pgmigrate.testsupport.TestSession;
import org.junit.jupiter.api.Test;

/**
 * {@code mvn flyway:migrate} with the Flyway Maven plugin, in a project generated under {@code target/it}: pgmigrate
 * is one plugin dependency (this module's freshly built jar, system-scoped, so nothing is installed into the Maven
 * repository) and one line of configuration ({@code <callbacks>}).
 */
@PostgresTest
class FlywayMavenPluginIT {

    private static final Duration BUILD_DEADLINE = Duration.ofMinutes(4);

    @Test
    void migrateEndsTheSessionThatBlocksTheMigrationAndAppliesIt(TestDatabase db) throws Exception {
        db.execute("CREATE SCHEMA rescue", "CREATE TABLE rescue.orders (id int PRIMARY KEY, total int)");
        Path project = project(db, "rescue");
        try (TestSession report = db.session("nightly-report").begin().execute("SELECT count(*) FROM rescue.orders")) {
            Build build = mvn(project, "flyway:migrate");

            assertThat(build.exitCode).as(build.output).isZero();
            assertThat(report.isAlive()).isFalse();
            assertThat(db.queryValue("SELECT count(*) FROM information_schema.columns "
                    + "WHERE table_schema = 'rescue' AND table_name = 'orders' AND column_name = 'email'")).isEqualTo(1L);
            assertThat(db.queryValue("SELECT success FROM rescue.flyway_schema_history WHERE version = '1'"))
                .isEqualTo(true);
            List<String> lines = build.output.lines().toList();
            assertThat(lines).anyMatch((line) -> line.matches("\\[INFO] pgmigrate: migrating as PostgreSQL backend pid \\d+"));
            int warning = index(lines, "[WARNING] pgmigrate: Terminated a session blocking migration 1 (add email): "
                    + "outcome=terminated pid=" + report.pid() + " ");
            assertThat(warning).as(build.output).isNotNegative();
            assertThat(lines.get(warning)).contains("application=nightly-report");
            // the console reads in order: the migration, the blocker it rescued it from, Flyway's summary
            int migrating = index(lines, "[INFO] Migrating schema \"rescue\" to version \"1 - add email\"");
            int applied = index(lines, "[INFO] Successfully applied 1 migration to schema \"rescue\"");
            assertThat(migrating).as(build.output).isNotNegative().isLessThan(warning);
            assertThat(applied).as(build.output).isGreaterThan(warning);
            // Flyway 13 writes "Executing Java callback: <event> - <name>" for each callback it runs: none is pgmigrate's
            assertThat(lines).as(build.output).noneMatch((line) -> line.contains("Executing Java callback"));
        }
    }

    @Test
    void aWrongValueFailsTheBuildNamingTheKeyAndTheAcceptedValues(TestDatabase db) throws Exception {
        db.execute("CREATE SCHEMA invalid");
        Path project = project(db, "invalid");
        Build build = mvn(project, "flyway:migrate", "-Dflyway.pgmigrate.blockingAction=kill");

        assertThat(build.exitCode).as(build.output).isNotZero();
        assertThat(build.output).contains("pgmigrate: invalid value 'kill' for flyway.pgmigrate.blockingAction: "
                + "accepted values: terminate, cancel, show, none");
        assertThat(db.queryValue("SELECT to_regclass('invalid.flyway_schema_history') IS NULL")).isEqualTo(true);
    }

    @Test
    void aKilledMigrateLeavesNoBackendQueuedForTheLock(TestDatabase db) throws Exception {
        db.execute("CREATE SCHEMA killed", "CREATE TABLE killed.orders (id int PRIMARY KEY, total int)");
        Path project = project(db, "killed");
        try (TestSession report = db.session("nightly-report").begin().execute("SELECT count(*) FROM killed.orders");
                TestSession application = db.session("application")) {
            // left alone, and no bound on the stall: the migration waits until its JVM is killed
            Process mvn = start(project, "flyway:migrate", "-Dflyway.pgmigrate.blockingAction=none",
                    "-Dflyway.pgmigrate.maxApplicationStall=0");
            try {
                await().atMost(BUILD_DEADLINE).pollInterval(Duration.ofMillis(100)).until(() -> {
                    assertThat(mvn.isAlive()).as("mvn still runs: %s", output(project)).isTrue();
                    return waiting(db);
                });
                application.executeAsync("SELECT count(*) FROM killed.orders");
            }
            finally {
                mvn.descendants().forEach(ProcessHandle::destroyForcibly);
                mvn.destroyForcibly();
                mvn.waitFor(1, TimeUnit.MINUTES);
            }
            // client_connection_check_interval: the orphaned backend ends itself, and the application goes on
            await().atMost(Duration.ofSeconds(30)).pollInterval(Duration.ofMillis(100))
                .until(() -> db.pidsOf("pgmigrate-migration").isEmpty());
            assertThat(report.isAlive()).isTrue();
            await().atMost(Duration.ofSeconds(30)).until(() -> !application.isWaitingForLock());
        }
    }

    /** The index of the first line that starts with the text, -1 when there is none. */
    private static int index(List<String> lines, String start) {
        for (int i = 0; i < lines.size(); i++) {
            if (lines.get(i).startsWith(start)) {
                return i;
            }
        }
        return -1;
    }

    private static boolean waiting(TestDatabase db) throws Exception {
        return Boolean.TRUE.equals(db.queryValue("SELECT EXISTS (SELECT 1 FROM pg_stat_activity "
                + "WHERE application_name = 'pgmigrate-migration' AND wait_event_type = 'Lock')"));
    }

    /**
     * A project with the Flyway Maven plugin, pgmigrate as its dependency, and V1 that alters orders, migrating the
     * schema of the given name.
     */
    private static Path project(TestDatabase db, String name) throws IOException {
        Path project = Paths.get(property("it.directory"), db.name() + "-" + name).toAbsolutePath();
        Path migrations = project.resolve("src/main/resources/db/migration");
        Files.createDirectories(migrations);
        Files.writeString(migrations.resolve("V1__add_email.sql"), "ALTER TABLE orders ADD COLUMN email text;\n");
        String pom = """
                <project xmlns="http://maven.apache.org/POM/4.0.0">
                  <modelVersion>4.0.0</modelVersion>
                  <groupId>com.example</groupId>
                  <artifactId>shop-schema</artifactId>
                  <version>1</version>
                  <packaging>pom</packaging>
                  <build>
                    <plugins>
                      <plugin>
                        <groupId>org.flywaydb</groupId>
                        <artifactId>flyway-maven-plugin</artifactId>
                        <version>@flyway@</version>
                        <configuration>
                          <url>@url@</url>
                          <user>@user@</user>
                          <password>@password@</password>
                          <defaultSchema>@schema@</defaultSchema>
                          <baselineOnMigrate>true</baselineOnMigrate>
                          <baselineVersion>0</baselineVersion>
                          <callbacks>io.pgmigrate.flyway.PgMigrateCallback</callbacks>
                        </configuration>
                        <dependencies>
                          <dependency>
                            <groupId>io.pgmigrate</groupId>
                            <artifactId>pgmigrate-flyway</artifactId>
                            <version>0</version>
                            <scope>system</scope>
                            <systemPath>@jar@</systemPath>
                          </dependency>
                          <dependency>
                            <groupId>org.flywaydb</groupId>
                            <artifactId>flyway-database-postgresql</artifactId>
                            <version>@flyway@</version>
                          </dependency>
                          <dependency>
                            <groupId>org.postgresql</groupId>
                            <artifactId>postgresql</artifactId>
                            <version>0</version>
                            <scope>system</scope>
                            <systemPath>@driver@</systemPath>
                          </dependency>
                        </dependencies>
                      </plugin>
                    </plugins>
                  </build>
                </project>
                """
            .replace("@flyway@", property("flyway-maven-plugin.version"))
            .replace("@driver@", property("postgresql.jar"))
            .replace("@schema@", name)
            .replace("@jar@", Paths.get(property("pgmigrate-flyway.jar")).toAbsolutePath().toString())
            .replace("@url@", db.jdbcUrl().replace("&", "&amp;"))
            .replace("@user@", db.user())
            .replace("@password@", db.password());
        Files.writeString(project.resolve("pom.xml"), pom);
        return project;
    }

    private record Build(int exitCode, String output) {
    }

    private static Build mvn(Path project, String... arguments) throws Exception {
        Process process = start(project, arguments);
        if (!process.waitFor(BUILD_DEADLINE.toSeconds(), TimeUnit.SECONDS)) {
            process.descendants().forEach(ProcessHandle::destroyForcibly);
            process.destroyForcibly();
            throw new AssertionError("mvn did not end within " + BUILD_DEADLINE + ":\n" + output(project));
        }
        return new Build(process.exitValue(), output(project));
    }

    private static Process start(Path project, String... arguments) throws IOException {
        List<String> command = new ArrayList<>(List.of(Paths.get(property("maven.home"), "bin", "mvn").toString(),
                "--batch-mode", "--no-transfer-progress"));
        command.addAll(List.of(arguments));
        ProcessBuilder builder = new ProcessBuilder(command).directory(project.toFile()).redirectErrorStream(true)
            .redirectOutput(project.resolve("build.log").toFile());
        builder.environment().put("JAVA_HOME", System.getProperty("java.home"));
        builder.environment().remove("MAVEN_OPTS");
        return builder.start();
    }

    private static String output(Path project) throws IOException {
        return Files.readString(project.resolve("build.log"), StandardCharsets.UTF_8);
    }

    private static String property(String name) {
        String value = System.getProperty(name);
        if (value == null || value.isBlank()) {
            throw new IllegalStateException("system property " + name + " is not set: run this test with Maven "
                    + "(failsafe sets it)");
        }
        return value;
    }
}
