package io.pgmigrate.autoconfigure.endpoint;

import io.pgmigrate.autoconfigure.metrics.PgMigrateMetricsTests;
import java.time.Duration;
import java.time.Instant;
import java.util.List;

import io.pgmigrate.core.BlockerOutcome;
import io.pgmigrate.core.BlockerReport;
import io.pgmigrate.core.MigrationRun;
import io.pgmigrate.core.SelfBlockedEvent;
import org.junit.jupiter.api.Test;

import static org.assertj.core.api.Assertions.assertThat;

/** The history keeps the newest runs only, and the endpoint cuts long texts. */
class MigrationHistoryTests {

    @Test
    void keepsTheNewestRunsFirstUpToItsCapacity() {
        MigrationHistory history = new MigrationHistory(3);
        for (int i = 1; i <= 5; i++) {
            history.runFinished(run(i, "SELECT 1", List.of(i + " (step)"), List.of()));
        }
        assertThat(history.runs()).hasSize(3)
            .extracting((entry) -> entry.run().migrationsApplied())
            .containsExactly(5, 4, 3);
        assertThat(history.runs().get(0).migrations()).containsExactly("5 (step)");
    }

    @Test
    void keepsTheMigrationsThatWaitedForFlywaysOwnConnection() {
        MigrationHistory history = new MigrationHistory();
        history.runFinished(run(0, "SELECT 1", List.of("3 (index orders)"), List.of(new SelfBlockedEvent(
                "3 (index orders)", PgMigrateMetricsTests.blocker(), Duration.ofSeconds(2)))));
        history.runFinished(run(1, "SELECT 1"));

        assertThat(history.runs().get(1).selfBlocked()).extracting(SelfBlockedEvent::migration)
            .containsExactly("3 (index orders)");
        assertThat(history.runs().get(0).selfBlocked()).isEmpty();
        PgMigrateEndpoint.SelfBlockedDescriptor shown = new PgMigrateEndpoint(history, 100).runs()
            .runs()
            .get(1)
            .selfBlocked()
            .get(0);
        assertThat(shown.migration()).isEqualTo("3 (index orders)");
        assertThat(shown.flywayPid()).isEqualTo(4242);
        assertThat(shown.fix()).isEqualTo("spring.flyway.postgresql.transactional-lock=false");
    }

    @Test
    void endpointCutsQueryTexts() {
        MigrationHistory history = new MigrationHistory();
        history.runFinished(run(1, "SELECT " + "x".repeat(500)));
        PgMigrateEndpoint.BlockerDescriptor blocker = new PgMigrateEndpoint(history, 20).runs()
            .runs()
            .get(0)
            .blockers()
            .get(0);
        assertThat(blocker.query()).hasSize(23).endsWith("...");
        assertThat(blocker.pid()).isEqualTo(4242);
        assertThat(blocker.action()).isEqualTo("terminated");
    }

    @Test
    void endpointNeverCutsAnEmojiInHalf() {
        MigrationHistory history = new MigrationHistory();
        String query = "SELECT '" + "\uD83D\uDE00".repeat(30) + "'";
        history.runFinished(run(1, query));
        String shown = new PgMigrateEndpoint(history, 9).runs().runs().get(0).blockers().get(0).query();
        String kept = shown.substring(0, shown.length() - "...".length());
        assertThat(query).startsWith(kept);
        assertThat(Character.isHighSurrogate(kept.charAt(kept.length() - 1))).isFalse();
        // 9 characters as PostgreSQL counts them: the emoji is one, kept whole
        assertThat(kept).isEqualTo("SELECT '\uD83D\uDE00");
    }

    private static MigrationRun run(int applied, String query) {
        return run(applied, query, List.of(), List.of());
    }

    private static MigrationRun run(int applied, String query, List<String> migrations,
            List<SelfBlockedEvent> selfBlocked) {
        var template = PgMigrateMetricsTests.blocker();
        var blocker = new io.pgmigrate.core.Blocker(template.pid(), template.blockedPid(), template.user(),
                template.database(), template.applicationName(), template.clientAddress(), template.state(), query,
                template.backendStart(), template.transactionStart(), template.age(), template.waitEvent(),
                template.lockModes(), template.lockGranted(), template.lockedObject(), template.blockedFor(), null,
                template.backendType(), template.waitLockType(), template.sameRoleAsBlocked());
        return new MigrationRun(Instant.now().minus(Duration.ofSeconds(1)), Instant.now(), true, applied, List.of(7),
                List.of(new BlockerReport(blocker, "migration 2 (add email)", BlockerOutcome.TERMINATED, "")), null,
                migrations, selfBlocked, List.of(), List.of());
    }
}
