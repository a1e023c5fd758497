package io.pgmigrate.liquibase;

import static io.pgmigrate.liquibase.Liquibases.DEADLINE;
import static io.pgmigrate.liquibase.Liquibases.ORDERS;
import static io.pgmigrate.liquibase.Liquibases.createOrders;
import static io.pgmigrate.liquibase.Liquibases.hasNote;
import static io.pgmigrate.liquibase.Liquibases.liquibase;
import static io.pgmigrate.liquibase.Liquibases.reader;
import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.Paths;
import java.util.List;
import java.util.concurrent.TimeUnit;

import io.pgmigrate.testsupport.PostgresTest;
import io.pgmigrate.testsupport.TestDatabase;
import io.pgmigrate.testsupport.TestSession;
import liquibase.Contexts;
import liquibase.LabelExpression;
import liquibase.Liquibase;
import org.junit.jupiter.api.Test;

/**
 * Two instances of an application, each a JVM of its own, start at once and update the same database under the
 * guard while a session blocks the changeset: Liquibase's lock lets one of them run it; the guard of each ends the
 * blocker only, never the other instance's connections.
 */
@PostgresTest
class ConcurrentLiquibaseInstancesTest {

    @Test
    void twoInstancesStartingAtOnceBothFinishAndEndOnlyTheBlocker(TestDatabase db) throws Exception {
        createOrders(db);
        // Liquibase's own tables exist, as on any database it updated before
        try (Liquibase first = liquibase(ORDERS, db.dataSource().getConnection())) {
            first.update(1, new Contexts(), new LabelExpression());
        }
        TestSession blocker = reader(db);

        Path outputA = Files.createTempFile("liquibase-instance-a", ".log");
        Path outputB = Files.createTempFile("liquibase-instance-b", ".log");
        Process a = instance(db, outputA);
        Process b = instance(db, outputB);
        assertThat(a.waitFor(DEADLINE.toSeconds(), TimeUnit.SECONDS)).as("instance A finished").isTrue();
        assertThat(b.waitFor(DEADLINE.toSeconds(), TimeUnit.SECONDS)).as("instance B finished").isTrue();
        String logA = Files.readString(outputA);
        String logB = Files.readString(outputB);
        System.out.println("pgmigrate measured: instance A\n" + logA + "\npgmigrate measured: instance B\n" + logB);

        assertThat(a.exitValue()).as(logA).isZero();
        assertThat(b.exitValue()).as(logB).isZero();
        assertThat(logA + logB).contains("liquibase-instance: updated");
        assertThat(hasNote(db)).isTrue();
        assertThat(blocker.isAlive()).isFalse();
        assertThat(db.queryValue("SELECT count(*) FROM databasechangelog WHERE id = '2-add-note'")).isEqualTo(1L);
        assertThat(db.queryValue("SELECT locked FROM databasechangeloglock WHERE id = 1")).isEqualTo(false);
        // the only session either guard terminated is the blocker
        List<String> terminated = (logA + logB).lines()
            .filter((line) -> line.contains("pgmigrate: Terminated a session"))
            .toList();
        assertThat(terminated).singleElement().satisfies((line) -> assertThat(line).contains("pid=" + blocker.pid()));
    }

    private static Process instance(TestDatabase db, Path output) throws IOException {
        String java = Paths.get(System.getProperty("java.home"), "bin", "java").toString();
        String classPath = System.getProperty("surefire.test.class.path", System.getProperty("java.class.path"));
        // Liquibase polls its lock every 10 s by default; a second lets the waiting instance see it free at once
        ProcessBuilder builder = new ProcessBuilder(java, "-Dliquibase.changelogLockPollRate=1", "-cp", classPath,
                LiquibaseInstanceChild.class.getName(), db.jdbcUrl(), db.user(), db.password());
        builder.redirectErrorStream(true);
        builder.redirectOutput(output.toFile());
        return builder.start();
    }
}
