package io.pgmigrate.autoconfigure;

import java.time.Duration;
import java.util.List;

import io.pgmigrate.core.WaitCancellation;
import io.pgmigrate.liquibase.ChangeSetStallException;
import io.pgmigrate.liquibase.UnpinnedChangeSetConnectionException;
import org.junit.jupiter.api.Test;

import org.springframework.beans.factory.BeanCreationException;
import org.springframework.boot.diagnostics.FailureAnalysis;
import org.springframework.mock.env.MockEnvironment;

import static org.assertj.core.api.Assertions.assertThat;

/** What the Liquibase failure analyses say, for failures as Spring Boot wraps them (no database needed). */
class LiquibaseFailureAnalyzersTests {

    private static final String CHANGESET = "3-index-note::orders-team (db/changelog/orders.yaml)";

    @Test
    void aStalledChangeSetOutsideATransactionNamesTheIndexItLeftAndHowToDropIt() {
        WaitCancellation cancellation = new WaitCancellation(WaitCancellation.Reason.APPLICATION_STALL, 4711,
                "changeset " + CHANGESET, "public.orders", 3, Duration.ofSeconds(2), Duration.ofSeconds(2), List.of());
        ChangeSetStallException stall = new ChangeSetStallException(CHANGESET, cancellation, 1, false,
                List.of("public.orders_note_idx"), new IllegalStateException("canceling statement"));

        FailureAnalysis analysis = new ChangeSetStallFailureAnalyzer(new MockEnvironment())
            .analyze(new BeanCreationException("liquibase", "update failed", stall));

        assertThat(analysis.getDescription()).contains("Changeset " + CHANGESET + " waited for a lock on public.orders",
                "3 application sessions", "runInTransaction=\"false\"", "INVALID indexes it left: public.orders_note_idx");
        assertThat(analysis.getAction()).contains("Drop any INVALID index", "pgmigrate.max-application-stall (now 2s)")
            .doesNotContain("lock-retries");
    }

    @Test
    void aStalledTransactionalChangeSetSuggestsRetries() {
        WaitCancellation cancellation = new WaitCancellation(WaitCancellation.Reason.APPLICATION_STALL, 4711,
                "changeset " + CHANGESET, null, 1, Duration.ofSeconds(2), Duration.ofSeconds(2), List.of());
        ChangeSetStallException stall = new ChangeSetStallException(CHANGESET, cancellation, 2, true, null,
                new IllegalStateException("canceling statement"));

        FailureAnalysis analysis = new ChangeSetStallFailureAnalyzer(new MockEnvironment()
            .withProperty("pgmigrate.lock-retries", "1")).analyze(stall);

        assertThat(analysis.getDescription()).contains("1 application session queued",
                "rolled the changeset back on each of its 2 attempts");
        assertThat(analysis.getAction()).contains("pgmigrate.lock-retries (now 1)").doesNotContain("INVALID");
    }

    @Test
    void aChangeSetOnAMovedConnectionWasNotStarted() {
        FailureAnalysis analysis = new UnpinnedChangeSetConnectionFailureAnalyzer()
            .analyze(new BeanCreationException("liquibase", "update failed",
                    new UnpinnedChangeSetConnectionException(CHANGESET, 10, 11)));

        assertThat(analysis.getDescription()).contains("Changeset " + CHANGESET + " was not started", "pid 10",
                "pid 11");
        assertThat(analysis.getAction()).contains("spring.liquibase.url", "pool_mode=session");
    }
}
