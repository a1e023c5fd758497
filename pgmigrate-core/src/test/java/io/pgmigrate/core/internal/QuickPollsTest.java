package io.pgmigrate.core.internal;

import static org.assertj.core.api.Assertions.assertThat;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;

import org.junit.jupiter.api.Test;

/**
 * When the watcher looks: at once after a backend is watched and then after 1, 2, 4 ms ... up to the poll
 * interval; after the start of a statement after 1, 2 and 4 ms, at most once per 50 ms; the full blocker query only
 * when the first, cheap check of a poll found a blocked backend.
 */
class QuickPollsTest {

    private static final Duration INTERVAL = Duration.ofMillis(25);

    @Test
    void afterWatchTheQuickPollsDoubleUpToThePollInterval() {
        assertThat(series(Duration.ZERO, INTERVAL, INTERVAL)).containsExactly(0L, 1L, 2L, 4L, 8L, 16L);
    }

    @Test
    void withAPollIntervalOfOneSecondTheyGoOnDoublingUpToIt() {
        assertThat(series(Duration.ZERO, Duration.ofSeconds(1), Duration.ofSeconds(1)))
            .containsExactly(0L, 1L, 2L, 4L, 8L, 16L, 32L, 64L, 128L, 256L, 512L);
    }

    @Test
    void afterTheStartOfAStatementThereAreThreeQuickPollsWhateverTheInterval() {
        assertThat(series(Watcher.FIRST_QUICK_POLL_DELAY, Watcher.STATEMENT_QUICK_POLLS_UP_TO,
                Duration.ofSeconds(1))).containsExactly(1L, 2L, 4L);
    }

    @Test
    void aPollIntervalShorterThanTheQuickPollsEndsThemSooner() {
        assertThat(series(Duration.ZERO, Duration.ofMillis(3), Duration.ofMillis(3))).containsExactly(0L, 1L, 2L);
    }

    @Test
    void statementsStartQuickPollsAtMostOncePer50Milliseconds() {
        long start = 1_000_000_000L;
        assertThat(Watcher.startsQuickPolls(null, start)).isTrue();
        assertThat(Watcher.startsQuickPolls(start, start + Duration.ofMillis(49).toNanos())).isFalse();
        assertThat(Watcher.startsQuickPolls(start, start + Duration.ofMillis(50).toNanos())).isTrue();
    }

    @Test
    void theFullBlockerQueryRunsOnlyWhenTheCheckFoundABlockedBackend() {
        assertThat(BlockerQuery.needsFullQuery(List.of())).isFalse();
        assertThat(BlockerQuery.needsFullQuery(List.of(4711))).isTrue();
    }

    /** The delays of a series of quick polls, in milliseconds, from its first one. */
    private static List<Long> series(Duration first, Duration upTo, Duration interval) {
        List<Long> delays = new ArrayList<>();
        for (Duration delay = first; delay != null; delay = Watcher.nextQuickPollDelay(delay, upTo, interval)) {
            delays.add(delay.toMillis());
        }
        return delays;
    }
}
