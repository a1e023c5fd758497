package io.pgmigrate.core.internal;

import java.sql.SQLException;
import java.time.Duration;
import java.util.List;

import io.pgmigrate.core.WaitCancellation;
import io.pgmigrate.core.internal.RetryPolicy.Verdict;
import org.junit.jupiter.api.Test;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * Invariant 4: a step is retried only if it ran in a transaction that PostgreSQL rolled back; a deterministic
 * self-block is not retried, nor a callback, nor an interrupted run.
 */
class RetryPolicyTest {

    private static final RuntimeException LOCK_TIMEOUT = wrapped("55P03");

    private static final RuntimeException CANCELED = wrapped("57014");

    private static final WaitCancellation STALL = cancellation(WaitCancellation.Reason.APPLICATION_STALL);

    @Test
    void aTransactionalMigrationThatHitTheLockTimeoutIsRetriedWhileRetriesAreLeft() {
        GuardedRun.Step migration = migration(true);
        assertThat(RetryPolicy.verdict(migration, null, LOCK_TIMEOUT, false, 1, 2))
            .isEqualTo(Verdict.RETRY_AFTER_LOCK_TIMEOUT);
        assertThat(RetryPolicy.verdict(migration, null, LOCK_TIMEOUT, false, 2, 2))
            .isEqualTo(Verdict.RETRY_AFTER_LOCK_TIMEOUT);
        assertThat(RetryPolicy.verdict(migration, null, LOCK_TIMEOUT, false, 3, 2))
            .isEqualTo(Verdict.LOCK_TIMEOUT_NO_RETRY_LEFT);
    }

    @Test
    void whatPostgresDidNotRollBackIsNeverRetried() {
        assertThat(RetryPolicy.verdict(migration(false), null, LOCK_TIMEOUT, false, 1, 5))
            .isEqualTo(Verdict.LOCK_TIMEOUT_OUTSIDE_TRANSACTION);
        assertThat(RetryPolicy.verdict(callback(), null, LOCK_TIMEOUT, false, 1, 5))
            .isEqualTo(Verdict.LOCK_TIMEOUT_CALLBACK);
        assertThat(RetryPolicy.verdict(migration(false), STALL, CANCELED, false, 1, 5))
            .isEqualTo(Verdict.STALLED_OUTSIDE_TRANSACTION);
        assertThat(RetryPolicy.verdict(callback(), STALL, CANCELED, false, 1, 5)).isEqualTo(Verdict.STALLED_CALLBACK);
    }

    @Test
    void aMigrationWaitingForAConnectionOfItsOwnRunIsTriedOnce() {
        GuardedRun.Step migration = migration(true);
        migration.selfBlocked(GuardedRun.SelfBlockKind.OWN_CONNECTION, null);
        assertThat(RetryPolicy.verdict(migration, null, LOCK_TIMEOUT, false, 1, 5))
            .isEqualTo(Verdict.LOCK_TIMEOUT_NO_RETRY_LEFT);
    }

    @Test
    void aStallTheWatcherCancelledIsRetriedLikeALockTimeoutAndCountsAgainstTheSameRetries() {
        GuardedRun.Step migration = migration(true);
        assertThat(RetryPolicy.verdict(migration, STALL, CANCELED, false, 1, 1)).isEqualTo(Verdict.RETRY_AFTER_STALL);
        assertThat(RetryPolicy.verdict(migration, STALL, CANCELED, false, 2, 1))
            .isEqualTo(Verdict.STALLED_NO_RETRY_LEFT);
    }

    @Test
    void otherFailuresAndInterruptsAreNeverRetried() {
        GuardedRun.Step migration = migration(true);
        assertThat(RetryPolicy.verdict(migration, null, wrapped("42P01"), false, 1, 5)).isEqualTo(Verdict.NOT_OURS);
        assertThat(RetryPolicy.verdict(migration, null, new IllegalStateException("no SQL"), false, 1, 5))
            .isEqualTo(Verdict.NOT_OURS);
        // a statement cancelled by someone else than the watcher is the tool's failure, not a stall
        assertThat(RetryPolicy.verdict(migration, null, CANCELED, false, 1, 5)).isEqualTo(Verdict.NOT_OURS);
        assertThat(RetryPolicy.verdict(null, null, LOCK_TIMEOUT, false, 1, 5)).isEqualTo(Verdict.NOT_OURS);
        assertThat(RetryPolicy.verdict(migration, cancellation(WaitCancellation.Reason.INTERRUPT), CANCELED, true, 1,
                5)).isEqualTo(Verdict.INTERRUPTED);
        assertThat(RetryPolicy.verdict(migration, null, LOCK_TIMEOUT, true, 1, 5)).isEqualTo(Verdict.NOT_OURS);
    }

    private static GuardedRun.Step migration(boolean inTransaction) {
        return new GuardedRun.Step("2 (add email)", false, 4711, inTransaction, null);
    }

    private static GuardedRun.Step callback() {
        return new GuardedRun.Step("afterMigrate", true, 4711, false, null);
    }

    private static WaitCancellation cancellation(WaitCancellation.Reason reason) {
        return new WaitCancellation(reason, 4711, "migration 2 (add email)", "public.orders", 3, Duration.ofSeconds(2),
                Duration.ofSeconds(2), List.of());
    }

    /** A tool's failure around PostgreSQL's, as Flyway wraps it. */
    private static RuntimeException wrapped(String sqlState) {
        return new RuntimeException("Migration failed", new SQLException("ERROR", sqlState));
    }
}
