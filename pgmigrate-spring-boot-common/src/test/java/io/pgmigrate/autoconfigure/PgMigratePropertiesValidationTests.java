package io.pgmigrate.autoconfigure;

import java.time.Duration;
import java.util.Set;

import io.pgmigrate.core.WatchSettings;
import io.pgmigrate.core.GuardSettings;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

import org.springframework.boot.SpringApplication;
import org.springframework.boot.WebApplicationType;
import org.springframework.boot.autoconfigure.AutoConfigurations;
import org.springframework.boot.context.properties.bind.BindException;
import org.springframework.boot.context.properties.source.InvalidConfigurationPropertyValueException;
import org.springframework.boot.test.context.assertj.AssertableApplicationContext;
import org.springframework.boot.test.context.runner.ApplicationContextRunner;
import org.springframework.boot.test.system.CapturedOutput;
import org.springframework.boot.test.system.OutputCaptureExtension;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatException;

/**
 * Every {@code pgmigrate.*} value is bound as documented, and every invalid one stops the start-up with a message
 * naming the property, the value and what it accepts.
 */
@ExtendWith(OutputCaptureExtension.class)
class PgMigratePropertiesValidationTests {

    private final ApplicationContextRunner runner = new ApplicationContextRunner()
        .withConfiguration(AutoConfigurations.of(BootGeneration.FLYWAY))
        .withConfiguration(AutoConfigurations.of(PgMigrateAutoConfiguration.class))
        .withPropertyValues("spring.datasource.generate-unique-name=true",
                "spring.flyway.locations=classpath:db/none");

    @Test
    void defaults() {
        this.runner.run((context) -> assertThat(context.getBean(GuardSettings.class)).isEqualTo(new GuardSettings(
                new WatchSettings(WatchSettings.DEFAULT_POLL_INTERVAL, Duration.ZERO, Set.of("pg_dump", "pg_dumpall"),
                        Set.of(), WatchSettings.DEFAULT_MAX_QUERY_LENGTH, false, Duration.ofSeconds(2)),
                null, 0, Duration.ofSeconds(1))));
    }

    @Test
    void everyValidValueIsBound() {
        this.runner
            .withPropertyValues("pgmigrate.blocking-action=show", "pgmigrate.min-duration=2s",
                    "pgmigrate.poll-interval=200ms", "pgmigrate.lock-timeout=3s", "pgmigrate.lock-retries=4",
                    "pgmigrate.lock-retry-delay=500ms", "pgmigrate.exclude-application-names=pg_dump,backup",
                    "pgmigrate.exclude-users=replicator", "pgmigrate.max-query-length=80",
                    "pgmigrate.act-on-snapshot-waits=true", "pgmigrate.max-application-stall=0")
            .run((context) -> {
                assertThat(ValidatedSettings.blockingAction(context.getBean(PgMigrateProperties.class)))
                    .isEqualTo(io.pgmigrate.core.StandardBlockingAction.SHOW);
                assertThat(context.getBean(GuardSettings.class)).isEqualTo(new GuardSettings(
                        new WatchSettings(Duration.ofMillis(200), Duration.ofSeconds(2), Set.of("pg_dump", "backup"),
                                Set.of("replicator"), 80, true, Duration.ZERO),
                        Duration.ofSeconds(3), 4, Duration.ofMillis(500)));
            });
    }

    @Test
    void unknownBlockingAction() {
        rejected("pgmigrate.blocking-action=kill", "pgmigrate.blocking-action",
                "accepted values: terminate, cancel, show, none");
    }

    @ParameterizedTest
    @CsvSource({ "TERMINATE, TERMINATE", "Terminate, TERMINATE", "cancel, CANCEL", "Show, SHOW", "NONE, NONE" })
    void theBlockingActionIsReadInAnyCase(String value, io.pgmigrate.core.StandardBlockingAction expected) {
        this.runner.withPropertyValues("pgmigrate.blocking-action=" + value).run((context) -> {
            assertThat(context).hasNotFailed();
            assertThat(ValidatedSettings.blockingAction(context.getBean(PgMigrateProperties.class)))
                .isEqualTo(expected);
        });
    }

    @ParameterizedTest
    @CsvSource(delimiter = '|', value = {
            "pgmigrate.poll-interval=fast | pgmigrate.poll-interval",
            "pgmigrate.min-duration=5 minutes | pgmigrate.min-duration",
            "pgmigrate.lock-timeout=1s; DROP TABLE orders | pgmigrate.lock-timeout",
            "pgmigrate.lock-retries=three | pgmigrate.lock-retries",
            "pgmigrate.lock-retries=99999999999 | pgmigrate.lock-retries",
            "pgmigrate.lock-retry-delay=9999999999999999999d | pgmigrate.lock-retry-delay",
            "pgmigrate.max-query-length=1e9 | pgmigrate.max-query-length" })
    void aValueOfTheWrongTypeIsRejectedNamingTheProperty(String property, String name) {
        this.runner.withPropertyValues(property).run((context) -> {
            assertThat(context).hasFailed();
            assertThat(TestApplications.cause(context.getStartupFailure(), BindException.class))
                .hasMessageContaining("Failed to bind properties under '" + name + "'");
        });
    }

    @Test
    void anEnabledValueOtherThanTrueOrFalseStopsTheStartupInsteadOfTurningTheGuardOff() {
        rejected("pgmigrate.enabled=maybe", "pgmigrate.enabled", "it must be true or false");
    }

    @Test
    void sqlInTheExclusionListsIsKeptAsData() {
        String hostile = "x'); DROP TABLE flyway_schema_history; --";
        this.runner
            .withPropertyValues("pgmigrate.exclude-application-names[0]=" + hostile,
                    "pgmigrate.exclude-users[0]=\"quoted\" user")
            .run((context) -> {
                assertThat(context).hasNotFailed();
                WatchSettings watch = context.getBean(GuardSettings.class).watch();
                assertThat(watch.excludedApplicationNames()).containsExactly(hostile);
                assertThat(watch.excludedUsers()).containsExactly("\"quoted\" user");
            });
    }

    @Test
    void unknownBlockingActionListsTheAcceptedValuesOnTheConsole(CapturedOutput output) {
        assertThatException().isThrownBy(() -> application("--pgmigrate.blocking-action=kill"));
        assertThat(output).contains("APPLICATION FAILED TO START")
            .contains("Invalid value 'kill' for configuration property 'pgmigrate.blocking-action'")
            .contains("accepted values: terminate, cancel, show, none")
            .doesNotContain("StandardBlockingAction", "java.lang.String", "No enum constant");
    }

    @Test
    void negativeMinDuration() {
        rejected("pgmigrate.min-duration=-1s", "pgmigrate.min-duration", "zero or a positive duration");
    }

    @Test
    void zeroPollInterval() {
        rejected("pgmigrate.poll-interval=0", "pgmigrate.poll-interval", "a duration between 10ms and 1h");
    }

    @Test
    void negativePollInterval() {
        rejected("pgmigrate.poll-interval=-50ms", "pgmigrate.poll-interval", "a duration between 10ms and 1h");
    }

    @Test
    void pollIntervalBelowTenMilliseconds() {
        rejected("pgmigrate.poll-interval=1ms", "pgmigrate.poll-interval", "a duration between 10ms and 1h");
    }

    @Test
    void negativeMaxApplicationStall() {
        rejected("pgmigrate.max-application-stall=-1s", "pgmigrate.max-application-stall",
                "or 0 to never cancel a migration's wait");
    }

    @Test
    void pollIntervalAboveOneHour() {
        rejected("pgmigrate.poll-interval=2h", "pgmigrate.poll-interval", "a duration between 10ms and 1h");
    }

    @Test
    void negativeLockTimeout() {
        rejected("pgmigrate.lock-timeout=-1s", "pgmigrate.lock-timeout", "between 1ms and");
    }

    @Test
    void zeroLockTimeout() {
        rejected("pgmigrate.lock-timeout=0s", "pgmigrate.lock-timeout", "leave it unset");
    }

    @Test
    void aRejectedDurationReadsAsTheUserWritesIt(CapturedOutput output) {
        assertThatException().isThrownBy(() -> application("--pgmigrate.lock-timeout=0s"));
        assertThat(output).contains("Invalid value '0s' for configuration property 'pgmigrate.lock-timeout'")
            .contains("it must be a duration between 1ms and 596h31m23.647s")
            .doesNotContainPattern("PT[0-9]");
    }

    @Test
    void lockTimeoutBeyondWhatPostgresKeeps() {
        rejected("pgmigrate.lock-timeout=30d", "pgmigrate.lock-timeout", "between 1ms and");
    }

    @Test
    void negativeLockRetries() {
        rejected("pgmigrate.lock-retries=-1", "pgmigrate.lock-retries", "0 (no retry) or a positive number");
    }

    @Test
    void lockRetriesWithNeitherLockTimeoutNorStallBound() {
        this.runner.withPropertyValues("pgmigrate.lock-retries=2", "pgmigrate.max-application-stall=0")
            .run((context) -> {
                InvalidConfigurationPropertyValueException invalid = invalid(context);
                assertThat(invalid.getName()).isEqualTo("pgmigrate.lock-retries");
                assertThat(invalid.getMessage()).contains("Property pgmigrate.lock-retries with value")
                    .contains("retries need pgmigrate.lock-timeout or pgmigrate.max-application-stall");
            });
    }

    @Test
    void lockRetriesWithoutLockTimeoutAreRetriesAfterTheStallBound() {
        // the bound (2s by default) cancels a wait that stalls the application, and the migration is retried
        this.runner.withPropertyValues("pgmigrate.lock-retries=2")
            .run((context) -> assertThat(context.getBean(GuardSettings.class).lockRetries()).isEqualTo(2));
    }

    @Test
    void negativeLockRetryDelay() {
        rejected("pgmigrate.lock-retry-delay=-1s", "pgmigrate.lock-retry-delay", "zero or a positive duration");
    }

    @Test
    void zeroMaxQueryLength() {
        rejected("pgmigrate.max-query-length=0", "pgmigrate.max-query-length", "at least 1");
    }

    @Test
    void blankExcludedApplicationName() {
        rejected("pgmigrate.exclude-application-names[0]= ", "pgmigrate.exclude-application-names[0]", "not blank");
    }

    @Test
    void blankExcludedUser() {
        rejected("pgmigrate.exclude-users[0]= ", "pgmigrate.exclude-users[0]", "not blank");
    }

    @Test
    void invalidValueShowsDescriptionAndActionOnTheConsole(CapturedOutput output) {
        assertThatException().isThrownBy(() -> application("--pgmigrate.lock-retries=-3"));
        assertThat(output).contains("APPLICATION FAILED TO START")
            .contains("Invalid value '-3' for configuration property 'pgmigrate.lock-retries'")
            .contains("it must be 0 (no retry) or a positive number of retries")
            .contains("Action:");
    }

    private void rejected(String property, String name, String accepted) {
        this.runner.withPropertyValues(property).run((context) -> {
            InvalidConfigurationPropertyValueException invalid = invalid(context);
            assertThat(invalid.getName()).isEqualTo(name);
            assertThat(invalid.getMessage()).contains("Property " + name + " with value").contains(accepted);
        });
    }

    private static InvalidConfigurationPropertyValueException invalid(AssertableApplicationContext context) {
        assertThat(context).hasFailed();
        return TestApplications.cause(context.getStartupFailure(), InvalidConfigurationPropertyValueException.class);
    }

    private static void application(String... args) {
        SpringApplication application = new SpringApplication(BootGeneration.FlywayApplication.class);
        application.setWebApplicationType(WebApplicationType.NONE);
        String[] all = new String[args.length + 2];
        all[0] = "--spring.datasource.generate-unique-name=true";
        all[1] = "--spring.flyway.locations=classpath:db/none";
        System.arraycopy(args, 0, all, 2, args.length);
        application.run(all).close();
    }
}
