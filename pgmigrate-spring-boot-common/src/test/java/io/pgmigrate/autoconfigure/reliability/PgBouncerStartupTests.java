package io.pgmigrate.autoconfigure.reliability;

import io.pgmigrate.autoconfigure.metrics.PgMigrateMetrics;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.Statement;
import java.util.List;

import io.pgmigrate.testsupport.PgBouncer;
import io.pgmigrate.testsupport.PostgresTest;
import io.pgmigrate.testsupport.TestDatabase;
import org.flywaydb.core.api.callback.Callback;
import org.flywaydb.core.api.callback.Context;
import org.flywaydb.core.api.callback.Event;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

import org.springframework.boot.test.system.CapturedOutput;
import org.springframework.boot.test.system.OutputCaptureExtension;
import org.springframework.context.ConfigurableApplicationContext;
import org.springframework.context.annotation.Bean;
import org.springframework.context.annotation.Configuration;

import static io.pgmigrate.autoconfigure.reliability.Startup.columnExists;
import static io.pgmigrate.autoconfigure.reliability.Startup.counter;
import static io.pgmigrate.autoconfigure.reliability.Startup.eventually;
import static io.pgmigrate.autoconfigure.reliability.Startup.finish;
import static io.pgmigrate.autoconfigure.reliability.Startup.startInBackground;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowable;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

/**
 * Issue 7: an application whose DataSource goes through PgBouncer in transaction pooling mode. Skipped where the
 * {@code pgbouncer} binary is not installed (CI installs Debian's package).
 */
@PostgresTest
@ExtendWith(OutputCaptureExtension.class)
class PgBouncerStartupTests {

    /** The pooler of the running test, for the Flyway callback the application gets. */
    private static volatile PgBouncer bouncer;

    @BeforeAll
    static void needsPgBouncer() {
        assumeTrue(PgBouncer.binary() != null, "pgbouncer is not installed (Debian: apt-get install -y pgbouncer); "
                + "skipping the PgBouncer tests");
    }

    @Test
    void throughTransactionPoolingTheStartUpFailsBeforeTheMigrationWithAnAnalysis(TestDatabase database,
            CapturedOutput output) throws Exception {
        Startup.applyV1(database.dataSource(), "pooled");
        try (PgBouncer pooler = PgBouncer.start(database, "transaction")) {
            bouncer = pooler;
            Throwable failure = catchThrowable(() -> Startup.start(database, "pooled",
                    List.of("spring.datasource.url=" + pooler.jdbcUrl()), ServerConnectionsRecycled.class).close());

            assertThat(failure).isNotNull();
            assertThat(columnExists(database, "pooled")).isFalse();
            assertThat(database.queryValue("SELECT count(*) FROM pooled.flyway_schema_history WHERE version = '2'"))
                .isEqualTo(0L);
            assertThat(output).contains("APPLICATION FAILED TO START")
                .contains("Migration 2 (add email) was not started: its connection was opened on PostgreSQL backend "
                        + "pid ")
                .contains("Nothing of the migration ran.")
                .contains("point spring.flyway.url");
            eventually().until(() -> Thread.getAllStackTraces().keySet().stream()
                .noneMatch((thread) -> thread.getName().startsWith("pgmigrate-")));
        }
        finally {
            bouncer = null;
        }
    }

    @Test
    void withSpringFlywayUrlPointingAtPostgresTheMigrationIsGuardedWhileTheApplicationUsesThePooler(
            TestDatabase database) throws Exception {
        Startup.applyV1(database.dataSource(), "direct");
        try (PgBouncer pooler = PgBouncer.start(database, "transaction");
                Connection report = pooler.connect("reporting")) {
            // the application's report, through the pooler: a transaction that read accounts and stays open
            report.setAutoCommit(false);
            int reportPid;
            try (Statement statement = report.createStatement()) {
                statement.execute("SELECT count(*) FROM direct.accounts");
            }
            try (Statement statement = report.createStatement();
                    ResultSet rows = statement.executeQuery("SELECT pg_backend_pid()")) {
                rows.next();
                reportPid = rows.getInt(1);
            }
            List<String> properties = List.of("spring.datasource.url=" + pooler.jdbcUrl(),
                    "spring.flyway.url=" + database.jdbcUrl(), "spring.flyway.user=" + database.user(),
                    "spring.flyway.password=" + database.password());

            try (ConfigurableApplicationContext application = finish(startInBackground(database, "direct",
                    properties))) {
                assertThat(columnExists(database, "direct")).isTrue();
                assertThat(database.isAlive(reportPid)).isFalse();
                assertThat(counter(application, PgMigrateMetrics.BLOCKERS, "action", "terminated")).isEqualTo(1.0);
                // the application's own queries go through the pooler
                try (Connection connection = application.getBean(javax.sql.DataSource.class).getConnection()) {
                    assertThat(connection.getMetaData().getURL()).isEqualTo(pooler.jdbcUrl());
                }
            }
        }
    }

    /** A Flyway callback: between Flyway's connect and its first migration, PgBouncer's server connections end. */
    @Configuration(proxyBeanMethods = false)
    static class ServerConnectionsRecycled {

        @Bean
        Callback recycleServerConnections() {
            // a class compiled against this generation's Flyway: Spring introspects the class of a bean, and the
            // test support's is compiled against the newest Flyway, whose Callback has methods Flyway 11 lacks
            Callback recycling = bouncer.recycleServerConnectionsBeforeMigrate();
            return new Callback() {

                @Override
                public boolean supports(Event event, Context context) {
                    return recycling.supports(event, context);
                }

                @Override
                public boolean canHandleInTransaction(Event event, Context context) {
                    return recycling.canHandleInTransaction(event, context);
                }

                @Override
                public void handle(Event event, Context context) {
                    recycling.handle(event, context);
                }

                @Override
                public String getCallbackName() {
                    return recycling.getCallbackName();
                }
            };
        }
    }
}
