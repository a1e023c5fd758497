package io.pgmigrate.autoconfigure;

import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Locale;

import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Timer;
import io.pgmigrate.core.BlockerOutcome;
import io.pgmigrate.core.BlockerReport;
import io.pgmigrate.core.WaitCancellation;
import io.pgmigrate.core.GuardListener;
import io.pgmigrate.core.LockTimeoutEvent;

import org.springframework.beans.factory.ObjectProvider;

/**
 * Records the guard's events as Micrometer meters. The names are fixed so dashboards and alerts can rely on them:
 * <ul>
 * <li>{@value #BLOCKERS} (counter), tag {@code action}: what was done about a blocking session, each blocking
 * transaction counted once per outcome: {@code terminated}, {@code canceled}, {@code shown}, {@code custom} (left
 * to a user's action), or {@code ignored}, which also counts every blocker left alone for another reason: the
 * {@code none} action, too young for {@code pgmigrate.min-duration}, excluded, protected, not permitted to
 * signal, a prepared transaction, or gone before the signal. A blocker first too young and later terminated
 * counts once as ignored and once as terminated;</li>
 * <li>{@value #LOCK_TIMEOUTS} (counter), tag {@code retried}: migrations that hit {@code pgmigrate.lock-timeout},
 * {@code true} when the migration was tried again, {@code false} when the attempts ran out;</li>
 * <li>{@value #MIGRATION_BLOCKED} (timer): for every migration, the longest time it waited for a lock;</li>
 * <li>{@value #WAIT_CANCELLATIONS} (counter), tag {@code reason}: migrations whose lock wait pgmigrate cancelled,
 * {@code stall} when the application queued behind it for longer than {@code pgmigrate.max-application-stall},
 * {@code interrupt} when the migrating thread was interrupted;</li>
 * <li>{@value #WATCHER_ERRORS} (counter): watcher polls that failed.</li>
 * </ul>
 * Flyway migrates while the application's singletons are created, before Spring Boot binds
 * {@code MeterBinder}s, so the meters are registered with the {@link MeterRegistry} directly, when a run starts.
 */
public final class PgMigrateMetrics implements GuardListener {

    /** Counter of blocking sessions, by what was done about them. */
    public static final String BLOCKERS = "pgmigrate.blockers";

    /** Counter of migrations that hit the lock timeout. */
    public static final String LOCK_TIMEOUTS = "pgmigrate.lock.timeouts";

    /** Timer of the time migrations waited for locks. */
    public static final String MIGRATION_BLOCKED = "pgmigrate.migration.blocked";

    /** Counter of migrations whose lock wait was cancelled, by why. */
    public static final String WAIT_CANCELLATIONS = "pgmigrate.wait.cancellations";

    /** Counter of failed watcher polls. */
    public static final String WATCHER_ERRORS = "pgmigrate.watcher.errors";

    private static final List<String> ACTIONS = List.of("terminated", "canceled", "shown", "ignored", "custom");

    private final ObjectProvider<MeterRegistry> registry;

    private volatile MeterRegistry resolved;

    /**
     * Metrics for the registry the provider gives, looked up when the first run starts.
     * @param registry the application's meter registry
     */
    public PgMigrateMetrics(ObjectProvider<MeterRegistry> registry) {
        this.registry = registry;
    }

    @Override
    public void runStarted(Instant started) {
        // runStarted comes on the thread that migrates, the one creating the application's beans: look the
        // registry up here, never on the watcher's thread.
        MeterRegistry meterRegistry = registry();
        if (meterRegistry == null) {
            return;
        }
        // registered up front so dashboards see zeros rather than no data
        ACTIONS.forEach((action) -> blockers(meterRegistry, action));
        lockTimeouts(meterRegistry, true);
        lockTimeouts(meterRegistry, false);
        migrationBlocked(meterRegistry);
        for (WaitCancellation.Reason reason : WaitCancellation.Reason.values()) {
            waitCancellations(meterRegistry, reason);
        }
        watcherErrors(meterRegistry);
    }

    @Override
    public void waitCancelled(WaitCancellation event) {
        MeterRegistry meterRegistry = this.resolved;
        if (meterRegistry != null) {
            waitCancellations(meterRegistry, event.reason()).increment();
        }
    }

    @Override
    public void blockerHandled(BlockerReport report) {
        MeterRegistry meterRegistry = this.resolved;
        if (meterRegistry != null) {
            blockers(meterRegistry, action(report.outcome())).increment();
        }
    }

    @Override
    public void lockTimeout(LockTimeoutEvent event) {
        MeterRegistry meterRegistry = this.resolved;
        if (meterRegistry != null) {
            lockTimeouts(meterRegistry, event.retried()).increment();
        }
    }

    @Override
    public void migrationFinished(String migration, boolean success, Duration lockWait) {
        MeterRegistry meterRegistry = this.resolved;
        if (meterRegistry != null) {
            migrationBlocked(meterRegistry).record((lockWait != null) ? lockWait : Duration.ZERO);
        }
    }

    @Override
    public void watcherFailed(Exception error) {
        MeterRegistry meterRegistry = this.resolved;
        if (meterRegistry != null) {
            watcherErrors(meterRegistry).increment();
        }
    }

    /** The value of the {@code reason} tag of {@value #WAIT_CANCELLATIONS}. */
    static String reason(WaitCancellation.Reason reason) {
        return switch (reason) {
            case APPLICATION_STALL -> "stall";
            case INTERRUPT -> "interrupt";
        };
    }

    /** The value of the {@code action} tag for an outcome. */
    static String action(BlockerOutcome outcome) {
        return switch (outcome) {
            case TERMINATED, CANCELED, SHOWN, CUSTOM -> outcome.name().toLowerCase(Locale.ROOT);
            case IGNORED, TOO_YOUNG, EXCLUDED, PROTECTED, SYSTEM_PROCESS, SNAPSHOT_WAIT, NOT_PERMITTED, UNENDABLE, GONE ->
                "ignored";
        };
    }

    private MeterRegistry registry() {
        MeterRegistry meterRegistry = this.resolved;
        if (meterRegistry == null) {
            meterRegistry = this.registry.getIfAvailable();
            this.resolved = meterRegistry;
        }
        return meterRegistry;
    }

    private static Counter blockers(MeterRegistry registry, String action) {
        return Counter.builder(BLOCKERS)
            .description("Sessions that blocked a migration, by what was done about them")
            .tag("action", action)
            .register(registry);
    }

    private static Counter lockTimeouts(MeterRegistry registry, boolean retried) {
        return Counter.builder(LOCK_TIMEOUTS)
            .description("Migrations that hit the lock timeout, by whether they were tried again")
            .tag("retried", Boolean.toString(retried))
            .register(registry);
    }

    private static Timer migrationBlocked(MeterRegistry registry) {
        return Timer.builder(MIGRATION_BLOCKED)
            .description("Longest time each migration waited for a lock")
            .register(registry);
    }

    private static Counter waitCancellations(MeterRegistry registry, WaitCancellation.Reason reason) {
        return Counter.builder(WAIT_CANCELLATIONS)
            .description("Migrations whose lock wait pgmigrate cancelled: the application queued behind it too long, "
                    + "or the migrating thread was interrupted")
            .tag("reason", reason(reason))
            .register(registry);
    }

    private static Counter watcherErrors(MeterRegistry registry) {
        return Counter.builder(WATCHER_ERRORS)
            .description("Watcher polls that failed")
            .register(registry);
    }
}
