package io.pgmigrate.core.internal;

import java.time.Duration;

import org.junit.jupiter.api.Test;

import static org.assertj.core.api.Assertions.assertThat;

/** The one form of a duration that every log line, message and endpoint field uses. */
class DurationsTest {

    @Test
    void readsAsAPersonWritesIt() {
        assertThat(Durations.human(Duration.ZERO)).isEqualTo("0s");
        assertThat(Durations.human(Duration.ofNanos(400_000))).isEqualTo("0s");
        assertThat(Durations.human(Duration.ofMillis(25))).isEqualTo("25ms");
        assertThat(Durations.human(Duration.ofNanos(43_200_000))).isEqualTo("43ms");
        assertThat(Durations.human(Duration.ofSeconds(2))).isEqualTo("2s");
        assertThat(Durations.human(Duration.ofMillis(1500))).isEqualTo("1.5s");
        assertThat(Durations.human(Duration.ofNanos(12_833_632_000L))).isEqualTo("12.834s");
        assertThat(Durations.human(Duration.ofSeconds(90))).isEqualTo("1m30s");
        assertThat(Durations.human(Duration.ofHours(1).plusSeconds(5))).isEqualTo("1h5s");
        assertThat(Durations.human(Duration.ofMillis(Integer.MAX_VALUE))).isEqualTo("596h31m23.647s");
        assertThat(Durations.human(Duration.ofSeconds(-1))).isEqualTo("-1s");
    }
}
