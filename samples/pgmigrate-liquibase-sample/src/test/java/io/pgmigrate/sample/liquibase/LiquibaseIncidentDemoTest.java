package io.pgmigrate.sample.liquibase;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

import org.springframework.boot.test.system.CapturedOutput;
import org.springframework.boot.test.system.OutputCaptureExtension;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatExceptionOfType;

/** The Liquibase demo the README shows: the blocked changeset is rescued, on a classpath without Flyway. */
@ExtendWith(OutputCaptureExtension.class)
class LiquibaseIncidentDemoTest {

    @Test
    void theGuardTerminatesTheReportAndNoApplicationQueryFails(CapturedOutput output) throws Exception {
        LiquibaseIncidentDemo.main(new String[0]);

        assertThat(output).containsPattern("pgmigrate: migrating as PostgreSQL backend pid \\d+")
            .containsPattern("WARN .*pgmigrate: Terminated a session blocking changeset "
                    + "2-add-note::orders-team \\(db/changelog/orders.yaml\\): outcome=terminated pid=\\d+ "
                    + ".*application=nightly-report .*state=\"idle in transaction\"")
            .containsPattern("demo: application started in .*; application queries: \\d+ run, 0 failed, "
                    + "longest wait \\d+ ms; the report was terminated");
    }

    @Test
    void theApplicationHasNoFlywayOnItsClasspath() {
        // the starter brings no migration tool: this application has Liquibase only
        assertThatExceptionOfType(ClassNotFoundException.class)
            .isThrownBy(() -> Class.forName("org.flywaydb.core.Flyway"));
        assertThatExceptionOfType(ClassNotFoundException.class)
            .isThrownBy(() -> Class.forName("org.springframework.boot.flyway.autoconfigure.FlywayAutoConfiguration"));
    }
}
