package io.pgmigrate.core;

import java.time.Duration;
import java.util.Set;

import org.junit.jupiter.api.Test;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowableOfType;

/**
 * Every setting is checked once, in the core's settings: the error names the setting, the value as a user writes
 * it, and what is accepted, so an integration (Spring Boot) shows it in its own words without checking again.
 */
class SettingsValidationTest {

    @Test
    void aPollIntervalOutOfRangeNamesTheSettingTheValueAndTheRange() {
        InvalidSettingException invalid = rejected(
                () -> WatchSettings.defaults().withPollInterval(Duration.ofMillis(1)));
        assertThat(invalid.setting()).isEqualTo("poll-interval");
        assertThat(invalid.value()).isEqualTo("1ms");
        assertThat(invalid.reason()).isEqualTo("it must be a duration between 10ms and 1h, for example 25ms or 1s");
        assertThat(invalid).hasMessage("poll-interval must be between 10ms and 1h, was 1ms");
    }

    @Test
    void anUnsetDurationIsRejectedLikeAWrongOneNotWithANullPointer() {
        InvalidSettingException invalid = rejected(() -> WatchSettings.defaults().withMinDuration(null));
        assertThat(invalid.setting()).isEqualTo("min-duration");
        assertThat(invalid.value()).isNull();
        assertThat(rejected(() -> GuardSettings.defaults().withLockRetryDelay(null)).setting())
            .isEqualTo("lock-retry-delay");
    }

    @Test
    void retriesWithoutAnyBoundOnTheWaitNameTheSettingsAsTheIntegrationNamesThem() {
        GuardSettings unbounded = GuardSettings.defaults()
            .withWatch(WatchSettings.defaults().withMaxApplicationStall(Duration.ZERO));
        InvalidSettingException invalid = rejected(() -> unbounded.withLockRetries(3));
        assertThat(invalid.setting()).isEqualTo("lock-retries");
        assertThat(invalid.value()).isEqualTo(3);
        assertThat(invalid.reason((name) -> "pgmigrate." + name))
            .startsWith("retries need pgmigrate.lock-timeout or pgmigrate.max-application-stall")
            .endsWith("or set pgmigrate.lock-retries to 0");
        assertThat(invalid.reason()).startsWith("retries need lock-timeout or max-application-stall");
    }

    @Test
    void aBlankExcludedNameAndAnUnknownActionAreRejectedTheSameWay() {
        InvalidSettingException blank = rejected(() -> WatchSettings.defaults().withExcludedUsers(Set.of(" ")));
        assertThat(blank.setting()).isEqualTo("exclude-users");
        assertThat(blank.reason()).isEqualTo("it must be a name, not blank");
        InvalidSettingException action = rejected(() -> StandardBlockingAction.fromConfigName("kill"));
        assertThat(action.setting()).isEqualTo("blocking-action");
        assertThat(action.value()).isEqualTo("kill");
        assertThat(action.reason()).isEqualTo("accepted values: terminate, cancel, show, none");
        assertThat(StandardBlockingAction.fromConfigName(" Show ")).isEqualTo(StandardBlockingAction.SHOW);
    }

    private static InvalidSettingException rejected(Runnable settings) {
        return catchThrowableOfType(InvalidSettingException.class, settings::run);
    }
}
