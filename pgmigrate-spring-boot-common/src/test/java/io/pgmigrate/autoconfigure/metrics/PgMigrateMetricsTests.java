package io.pgmigrate.autoconfigure.metrics;

import java.time.Duration;
import java.time.Instant;
import java.util.List;

import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import io.pgmigrate.core.Blocker;
import io.pgmigrate.core.BlockerOutcome;
import io.pgmigrate.core.BlockerReport;
import io.pgmigrate.core.WaitCancellation;
import io.pgmigrate.core.LockTimeoutEvent;
import org.junit.jupiter.api.Test;

import org.springframework.beans.factory.support.DefaultListableBeanFactory;

import static org.assertj.core.api.Assertions.assertThat;

/** The meters' fixed names and tags, and how the core's outcomes map onto the {@code action} tag. */
public class PgMigrateMetricsTests {

    private final MeterRegistry registry = new SimpleMeterRegistry();

    private final PgMigrateMetrics metrics = metrics(this.registry);

    @Test
    void registersEveryMeterAtZeroWhenARunStarts() {
        this.metrics.runStarted(Instant.now());
        for (String action : List.of("terminated", "canceled", "shown", "ignored", "custom")) {
            assertThat(this.registry.get("pgmigrate.blockers").tag("action", action).counter().count()).isZero();
        }
        assertThat(this.registry.get("pgmigrate.lock.timeouts").tag("retried", "true").counter().count()).isZero();
        assertThat(this.registry.get("pgmigrate.lock.timeouts").tag("retried", "false").counter().count()).isZero();
        assertThat(this.registry.get("pgmigrate.migration.blocked").timer().count()).isZero();
        assertThat(this.registry.get("pgmigrate.watcher.errors").counter().count()).isZero();
    }

    @Test
    void countsBlockersByWhatWasDone() {
        this.metrics.runStarted(Instant.now());
        for (BlockerOutcome outcome : BlockerOutcome.values()) {
            this.metrics.blockerHandled(new BlockerReport(blocker(), "migration 2 (add email)", outcome, ""));
        }
        assertThat(count("terminated")).isEqualTo(1);
        assertThat(count("canceled")).isEqualTo(1);
        assertThat(count("shown")).isEqualTo(1);
        assertThat(count("custom")).isEqualTo(1);
        // IGNORED, TOO_YOUNG, EXCLUDED, PROTECTED, SYSTEM_PROCESS, SNAPSHOT_WAIT, NOT_PERMITTED, UNENDABLE, GONE
        assertThat(count("ignored")).isEqualTo(9);
    }

    @Test
    void countsLockTimeoutsTimesLockWaitsAndWatcherErrors() {
        this.metrics.runStarted(Instant.now());
        this.metrics.lockTimeout(new LockTimeoutEvent("2 (add email)", Duration.ofSeconds(1), 1, true, List.of()));
        this.metrics.lockTimeout(new LockTimeoutEvent("2 (add email)", Duration.ofSeconds(1), 2, false, List.of()));
        this.metrics.lockTimeout(new LockTimeoutEvent("2 (add email)", Duration.ofSeconds(1), 2, false, List.of()));
        this.metrics.migrationFinished("2 (add email)", true, Duration.ofMillis(1500));
        this.metrics.watcherFailed(new java.sql.SQLException("connection lost"));
        assertThat(this.registry.get("pgmigrate.lock.timeouts").tag("retried", "true").counter().count()).isEqualTo(1);
        assertThat(this.registry.get("pgmigrate.lock.timeouts").tag("retried", "false").counter().count())
            .isEqualTo(2);
        assertThat(this.registry.get("pgmigrate.migration.blocked").timer().totalTime(java.util.concurrent.TimeUnit.MILLISECONDS))
            .isEqualTo(1500);
        assertThat(this.registry.get("pgmigrate.watcher.errors").counter().count()).isEqualTo(1);
    }

    @Test
    void countsCancelledWaitsByWhy() {
        this.metrics.runStarted(Instant.now());
        assertThat(this.registry.get("pgmigrate.wait.cancellations").tag("reason", "stall").counter().count()).isZero();
        assertThat(this.registry.get("pgmigrate.wait.cancellations").tag("reason", "interrupt").counter().count())
            .isZero();
        this.metrics.waitCancelled(cancellation(WaitCancellation.Reason.APPLICATION_STALL));
        this.metrics.waitCancelled(cancellation(WaitCancellation.Reason.APPLICATION_STALL));
        this.metrics.waitCancelled(cancellation(WaitCancellation.Reason.INTERRUPT));
        assertThat(this.registry.get("pgmigrate.wait.cancellations").tag("reason", "stall").counter().count())
            .isEqualTo(2);
        assertThat(this.registry.get("pgmigrate.wait.cancellations").tag("reason", "interrupt").counter().count())
            .isEqualTo(1);
    }

    private static WaitCancellation cancellation(WaitCancellation.Reason reason) {
        return new WaitCancellation(reason, 42, "migration 2 (add email)", "public.orders", 3, Duration.ofSeconds(2),
                Duration.ofSeconds(2), List.of());
    }

    @Test
    void recordsNothingWithoutARegistry() {
        PgMigrateMetrics withoutRegistry = new PgMigrateMetrics(new DefaultListableBeanFactory()
            .getBeanProvider(MeterRegistry.class));
        withoutRegistry.runStarted(Instant.now());
        withoutRegistry.blockerHandled(new BlockerReport(blocker(), "migration 2", BlockerOutcome.TERMINATED, ""));
        withoutRegistry.watcherFailed(new IllegalStateException("boom"));
    }

    private double count(String action) {
        return this.registry.get("pgmigrate.blockers").tag("action", action).counter().count();
    }

    private static PgMigrateMetrics metrics(MeterRegistry registry) {
        DefaultListableBeanFactory beanFactory = new DefaultListableBeanFactory();
        beanFactory.registerSingleton("registry", registry);
        return new PgMigrateMetrics(beanFactory.getBeanProvider(MeterRegistry.class));
    }

    /** A blocker as PostgreSQL reports one, for the tests of the other packages too. */
    public static Blocker blocker() {
        return new Blocker(4242, 4141, "app", "shop", "reporting", "10.0.0.7", "idle in transaction",
                "SELECT * FROM accounts WHERE name = 'x'", Instant.now().minusSeconds(60), Instant.now().minusSeconds(30),
                Duration.ofSeconds(30), "Client:ClientRead", "AccessShareLock", true, "public.accounts",
                Duration.ofSeconds(2), null, Blocker.CLIENT_BACKEND, "relation", false);
    }
}
