package io.pgmigrate.autoconfigure.reliability;

import io.pgmigrate.autoconfigure.metrics.PgMigrateMetrics;
import java.time.Duration;
import java.util.List;

import io.pgmigrate.autoconfigure.BootGeneration;
import io.pgmigrate.autoconfigure.PgMigrateAutoConfiguration;
import io.pgmigrate.core.GuardSettings;
import io.pgmigrate.testsupport.PostgresTest;
import io.pgmigrate.testsupport.TestDatabase;
import io.pgmigrate.testsupport.TestSession;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

import org.springframework.boot.autoconfigure.AutoConfigurations;
import org.springframework.boot.test.context.runner.ApplicationContextRunner;
import org.springframework.context.ConfigurableApplicationContext;

import static io.pgmigrate.autoconfigure.reliability.Startup.columnExists;
import static io.pgmigrate.autoconfigure.reliability.Startup.counter;
import static org.assertj.core.api.Assertions.assertThat;

/**
 * Issue 7: every {@code pgmigrate.*} property given hostile values: the wrong type, negative or huge durations,
 * numbers beyond an int, SQL. Each one is either rejected at start-up, with a message naming the property, or
 * taken as the plain value it is. {@code PgMigratePropertiesValidationTests} has the messages in detail.
 */
@PostgresTest
class HostilePropertyValuesTests {

    private final ApplicationContextRunner runner = new ApplicationContextRunner()
        .withConfiguration(AutoConfigurations.of(BootGeneration.FLYWAY))
        .withConfiguration(AutoConfigurations.of(PgMigrateAutoConfiguration.class))
        .withPropertyValues("spring.datasource.generate-unique-name=true",
                "spring.flyway.locations=classpath:db/none");

    @ParameterizedTest(name = "{0}")
    @CsvSource(delimiter = '|', quoteCharacter = '"', value = {
            // wrong types
            "pgmigrate.enabled=maybe | pgmigrate.enabled",
            "pgmigrate.enabled=1; DROP TABLE accounts | pgmigrate.enabled",
            "pgmigrate.blocking-action=1 | pgmigrate.blocking-action",
            "pgmigrate.blocking-action=terminate; DROP TABLE accounts | pgmigrate.blocking-action",
            "pgmigrate.min-duration=abc | pgmigrate.min-duration",
            "pgmigrate.poll-interval=fast | pgmigrate.poll-interval",
            "pgmigrate.lock-timeout=soon | pgmigrate.lock-timeout",
            "pgmigrate.lock-timeout=1s'; DROP TABLE accounts; -- | pgmigrate.lock-timeout",
            "pgmigrate.lock-retries=three | pgmigrate.lock-retries",
            "pgmigrate.lock-retries=1.5 | pgmigrate.lock-retries",
            "pgmigrate.lock-retry-delay=later | pgmigrate.lock-retry-delay",
            "pgmigrate.max-query-length=long | pgmigrate.max-query-length",
            // numbers beyond what the type holds
            "pgmigrate.max-query-length=99999999999 | pgmigrate.max-query-length",
            "pgmigrate.lock-retries=2147483648 | pgmigrate.lock-retries",
            "pgmigrate.min-duration=9999999999999999999d | pgmigrate.min-duration",
            // negative durations and numbers
            "pgmigrate.poll-interval=-1s | pgmigrate.poll-interval",
            "pgmigrate.min-duration=-1s | pgmigrate.min-duration",
            "pgmigrate.lock-timeout=-1ms | pgmigrate.lock-timeout",
            "pgmigrate.lock-retry-delay=-1s | pgmigrate.lock-retry-delay",
            "pgmigrate.lock-retries=-1 | pgmigrate.lock-retries",
            "pgmigrate.max-query-length=-5 | pgmigrate.max-query-length",
            // huge durations: more than PostgreSQL keeps in lock_timeout, a poll interval nobody means
            "pgmigrate.lock-timeout=100000d | pgmigrate.lock-timeout",
            "pgmigrate.lock-timeout=25d | pgmigrate.lock-timeout",
            "pgmigrate.poll-interval=100000d | pgmigrate.poll-interval",
            // blank names in the lists
            "pgmigrate.exclude-application-names[0]= | pgmigrate.exclude-application-names[0]",
            "pgmigrate.exclude-users[0]=\t | pgmigrate.exclude-users[0]" })
    void aHostileValueStopsTheStartupWithAMessageNamingTheProperty(String property, String name) {
        this.runner.withPropertyValues(property).run((context) -> {
            assertThat(context).hasFailed();
            assertThat(messages(context.getStartupFailure())).as("messages of %s", context.getStartupFailure())
                .anyMatch((message) -> message.contains(name));
        });
    }

    @Test
    void hugeValuesWithinRangeAreTakenAsTheyAreAndBoundedWhereTheyMatter() {
        this.runner
            .withPropertyValues("pgmigrate.min-duration=100000d", "pgmigrate.lock-timeout=24d",
                    "pgmigrate.lock-retries=2147483647", "pgmigrate.lock-retry-delay=100000d",
                    "pgmigrate.max-query-length=2147483647", "pgmigrate.poll-interval=1h")
            .run((context) -> {
                assertThat(context).hasNotFailed();
                GuardSettings settings = context.getBean(GuardSettings.class);
                assertThat(settings.watch().minDuration()).isEqualTo(Duration.ofDays(100000));
                assertThat(settings.lockTimeout()).isEqualTo(Duration.ofDays(24));
                assertThat(settings.lockRetries()).isEqualTo(Integer.MAX_VALUE);
                assertThat(settings.lockRetryDelay()).isEqualTo(Duration.ofDays(100000));
                assertThat(settings.watch().maxQueryLength()).isEqualTo(Integer.MAX_VALUE);
            });
    }

    @Test
    void theLargestValuesStillGuardARealMigration(TestDatabase database) throws Exception {
        Startup.applyV1(database.dataSource(), "largest");
        TestSession report = database.session("reporting").begin().execute("SELECT count(*) FROM largest.accounts");
        // lock_timeout of 24 days is sent as milliseconds; the whole query text is asked for
        try (ConfigurableApplicationContext application = Startup.start(database, "largest",
                List.of("pgmigrate.lock-timeout=24d", "pgmigrate.lock-retries=2147483647",
                        "pgmigrate.lock-retry-delay=100000d", "pgmigrate.max-query-length=2147483647"))) {
            assertThat(columnExists(database, "largest")).isTrue();
            assertThat(report.isAlive()).isFalse();
            assertThat(counter(application, PgMigrateMetrics.BLOCKERS, "action", "terminated")).isEqualTo(1.0);
            assertThat(counter(application, PgMigrateMetrics.WATCHER_ERRORS)).isZero();
        }
    }

    private static List<String> messages(Throwable failure) {
        List<String> messages = new java.util.ArrayList<>();
        for (Throwable current = failure; current != null; current = current.getCause()) {
            messages.add(String.valueOf(current.getMessage()));
        }
        return messages;
    }
}
