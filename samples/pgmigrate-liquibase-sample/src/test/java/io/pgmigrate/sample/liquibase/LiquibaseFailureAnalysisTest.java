package io.pgmigrate.sample.liquibase;

import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.Statement;

import io.zonky.test.db.postgres.embedded.EmbeddedPostgres;
import liquibase.Contexts;
import liquibase.LabelExpression;
import liquibase.Liquibase;
import liquibase.database.jvm.JdbcConnection;
import liquibase.resource.ClassLoaderResourceAccessor;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

import org.springframework.boot.SpringApplication;
import org.springframework.boot.test.system.CapturedOutput;
import org.springframework.boot.test.system.OutputCaptureExtension;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowable;

/**
 * A start-up whose changeset cannot get its lock, in the application without Flyway: Spring Boot prints pgmigrate's
 * failure analysis, not a stack trace.
 */
@ExtendWith(OutputCaptureExtension.class)
class LiquibaseFailureAnalysisTest {

    @Test
    void aChangeSetThatRanOutOfLockTimeoutRetriesIsExplained(CapturedOutput output) throws Exception {
        try (EmbeddedPostgres postgres = EmbeddedPostgres.builder().start()) {
            String url = postgres.getJdbcUrl("postgres", "postgres");
            try (Liquibase production = new Liquibase("db/changelog/orders.yaml", new ClassLoaderResourceAccessor(),
                    new JdbcConnection(DriverManager.getConnection(url, "postgres", "postgres")))) {
                production.update(1, new Contexts(), new LabelExpression());
            }
            try (Connection report = DriverManager.getConnection(url + "&ApplicationName=nightly-report", "postgres",
                    "postgres")) {
                report.setAutoCommit(false);
                try (Statement statement = report.createStatement()) {
                    statement.executeQuery("SELECT count(*) FROM orders").close();
                }
                Throwable failure = catchThrowable(() -> SpringApplication.run(LiquibaseSampleApplication.class,
                        "--spring.datasource.url=" + url, "--spring.datasource.username=postgres",
                        "--spring.datasource.password=postgres", "--pgmigrate.blocking-action=show",
                        "--pgmigrate.lock-timeout=1s", "--pgmigrate.lock-retries=0").close());

                assertThat(failure).isNotNull();
                assertThat(output).contains("APPLICATION FAILED TO START")
                    .contains("Changeset 2-add-note::orders-team (db/changelog/orders.yaml) could not get its locks")
                    .contains("application nightly-report")
                    .doesNotContain("org.flywaydb");
            }
        }
    }
}
