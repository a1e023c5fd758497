package io.pgmigrate.core.internal;

import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;

import io.pgmigrate.core.GuardListener;
import org.junit.jupiter.api.Test;

import static org.assertj.core.api.Assertions.assertThat;

/** One listener type, one fan-out: every listener gets every event, whatever another one does. */
class FanOutTest {

    @Test
    void aListenerThatThrowsKeepsTheEventFromNoOther() {
        List<String> seen = new ArrayList<>();
        GuardListener failing = new GuardListener() {
            @Override
            public void migrationStarted(int backendPid, String migration) {
                throw new IllegalStateException("listener bug");
            }

            @Override
            public void watcherFailed(Exception error) {
                throw new IllegalStateException("listener bug");
            }
        };
        GuardListener events = GuardListener.of(List.of(failing, recording("metrics", seen)));

        events.migrationStarted(42, "2 (add email)");
        events.watcherFailed(new IllegalStateException("poll failed"));
        events.migrationFinished("2 (add email)", true, Duration.ZERO);

        assertThat(seen).containsExactly("metrics started 2 (add email)", "metrics watcher failed",
                "metrics finished 2 (add email)");
    }

    @Test
    void listenersPutTogetherInStagesGetEventsThroughOneFlatListInOrder() {
        List<String> seen = new ArrayList<>();
        GuardListener application = GuardListener.of(List.of(recording("metrics", seen),
                recording("history", seen)));
        GuardListener run = GuardListener.of(List.of(recording("record", seen), application));

        run.runStarted(Instant.EPOCH);

        assertThat(((FanOut) run).listeners()).hasSize(3).doesNotHaveAnyElementsOfTypes(FanOut.class);
        assertThat(seen).containsExactly("record run started", "metrics run started", "history run started");
    }

    @Test
    void aRunsFanOutThatAlreadyWritesTheLogGetsNoSecondLog() {
        GuardListener application = GuardListener.of(List.of(new GuardListener() {
        }));
        assertThat(FanOut.logs(application)).isFalse();
        assertThat(FanOut.logs(GuardListener.of(List.of(new LoggingListener(), application)))).isTrue();
    }

    private static GuardListener recording(String name, List<String> seen) {
        return new GuardListener() {
            @Override
            public void runStarted(Instant started) {
                seen.add(name + " run started");
            }

            @Override
            public void migrationStarted(int backendPid, String migration) {
                seen.add(name + " started " + migration);
            }

            @Override
            public void migrationFinished(String migration, boolean success, Duration lockWait) {
                seen.add(name + " finished " + migration);
            }

            @Override
            public void watcherFailed(Exception error) {
                seen.add(name + " watcher failed");
            }
        };
    }
}
