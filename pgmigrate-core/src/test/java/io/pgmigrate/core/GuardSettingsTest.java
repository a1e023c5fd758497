package io.pgmigrate.core;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatIllegalArgumentException;

import java.time.Duration;

import org.junit.jupiter.api.Test;

class GuardSettingsTest {

    @Test
    void defaults() {
        GuardSettings defaults = GuardSettings.defaults();
        assertThat(defaults.watch()).isEqualTo(WatchSettings.defaults());
        assertThat(defaults.lockTimeout()).isNull();
        assertThat(defaults.lockRetries()).isZero();
        assertThat(defaults.lockRetryDelay()).isEqualTo(Duration.ofSeconds(1));
    }

    @Test
    void lockTimeoutMustBeAtLeastOneMillisecond() {
        assertThatIllegalArgumentException().isThrownBy(() -> GuardSettings.defaults().withLockTimeout(Duration.ZERO))
            .withMessageStartingWith("lock-timeout must be between 1ms and 596h31m23.647s");
        assertThatIllegalArgumentException()
            .isThrownBy(() -> GuardSettings.defaults().withLockTimeout(Duration.ofDays(30)))
            .withMessageContaining("lock-timeout");
        assertThat(GuardSettings.defaults().withLockTimeout(null).lockTimeout()).isNull();
    }

    @Test
    void lockRetriesMustNotBeNegative() {
        assertThatIllegalArgumentException().isThrownBy(() -> GuardSettings.defaults().withLockRetries(-1))
            .withMessage("lock-retries must be zero or more, was -1");
    }

    @Test
    void lockRetriesNeedALockTimeoutOrAStallBound() {
        GuardSettings unbounded = GuardSettings.defaults()
            .withWatch(WatchSettings.defaults().withMaxApplicationStall(Duration.ZERO));
        assertThatIllegalArgumentException().isThrownBy(() -> unbounded.withLockRetries(2))
            .withMessageStartingWith("lock-retries needs lock-timeout or max-application-stall")
            .withMessageEndingWith("was 2");
        assertThat(unbounded.withLockTimeout(Duration.ofSeconds(1)).withLockRetries(2).lockRetries()).isEqualTo(2);
        // the default stall bound ends a wait that stalls the application, so retries need no lock timeout
        assertThat(GuardSettings.defaults().withLockRetries(2).lockRetries()).isEqualTo(2);
    }

    @Test
    void lockRetryDelayMustNotBeNegative() {
        assertThatIllegalArgumentException()
            .isThrownBy(() -> GuardSettings.defaults().withLockRetryDelay(Duration.ofMillis(-1)))
            .withMessage("lock-retry-delay must be zero or positive, was -1ms");
    }

    @Test
    void theRetryDelayDoublesUpToThirtySeconds() {
        GuardSettings settings = GuardSettings.defaults().withLockRetryDelay(Duration.ofSeconds(5));
        assertThat(settings.retryDelay(1)).isEqualTo(Duration.ofSeconds(5));
        assertThat(settings.retryDelay(2)).isEqualTo(Duration.ofSeconds(10));
        assertThat(settings.retryDelay(3)).isEqualTo(Duration.ofSeconds(20));
        assertThat(settings.retryDelay(4)).isEqualTo(Duration.ofSeconds(30));
        assertThat(settings.retryDelay(1000)).isEqualTo(Duration.ofSeconds(30));
        assertThat(GuardSettings.defaults().withLockRetryDelay(Duration.ZERO).retryDelay(5)).isZero();
    }
}
