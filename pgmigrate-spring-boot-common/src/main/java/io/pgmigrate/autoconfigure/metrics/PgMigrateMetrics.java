package io.pgmigrate.autoconfigure.metrics;

import java.time.Duration;
import java.time.Instant;
import java.util.EnumMap;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
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
 * {@code MeterBinder}s, so the meters are registered with the {@link MeterRegistry} directly, once, when the first
 * run starts, and kept.
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

    /** The meters, built once, when the first run starts with a registry; {@code null} before. */
    private volatile Meters meters;

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
        // registry up here, never on the watcher's thread. Registered up front so dashboards see zeros rather than
        // no data.
        if (this.meters == null) {
            MeterRegistry meterRegistry = this.registry.getIfAvailable();
            if (meterRegistry != null) {
                this.meters = new Meters(meterRegistry);
            }
        }
    }

    @Override
    public void waitCancelled(WaitCancellation event) {
        Meters current = this.meters;
        if (current != null) {
            current.waitCancellations.get(event.reason()).increment();
        }
    }

    @Override
    public void blockerHandled(BlockerReport report) {
        Meters current = this.meters;
        if (current != null) {
            current.blockers.get(action(report.outcome())).increment();
        }
    }

    @Override
    public void lockTimeout(LockTimeoutEvent event) {
        Meters current = this.meters;
        if (current != null) {
            (event.retried() ? current.lockTimeoutsRetried : current.lockTimeoutsFailed).increment();
        }
    }

    @Override
    public void migrationFinished(String migration, boolean success, Duration lockWait) {
        Meters current = this.meters;
        if (current != null) {
            current.migrationBlocked.record((lockWait != null) ? lockWait : Duration.ZERO);
        }
    }

    @Override
    public void watcherFailed(Exception error) {
        Meters current = this.meters;
        if (current != null) {
            current.watcherErrors.increment();
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

    /** Every meter, registered once and kept, as HikariCP's Micrometer tracker keeps its own. */
    private static final class Meters {

        private final Map<String, Counter> blockers = new HashMap<>();

        private final Counter lockTimeoutsRetried;

        private final Counter lockTimeoutsFailed;

        private final Timer migrationBlocked;

        private final Map<WaitCancellation.Reason, Counter> waitCancellations = new EnumMap<>(
                WaitCancellation.Reason.class);

        private final Counter watcherErrors;

        Meters(MeterRegistry registry) {
            for (String action : ACTIONS) {
                this.blockers.put(action, Counter.builder(BLOCKERS)
                    .description("Sessions that blocked a migration, by what was done about them")
                    .tag("action", action)
                    .register(registry));
            }
            this.lockTimeoutsRetried = lockTimeouts(registry, true);
            this.lockTimeoutsFailed = lockTimeouts(registry, false);
            this.migrationBlocked = Timer.builder(MIGRATION_BLOCKED)
                .description("Longest time each migration waited for a lock")
                .register(registry);
            for (WaitCancellation.Reason reason : WaitCancellation.Reason.values()) {
                this.waitCancellations.put(reason, Counter.builder(WAIT_CANCELLATIONS)
                    .description("Migrations whose lock wait pgmigrate cancelled: the application queued behind it "
                            + "too long, or the migrating thread was interrupted")
                    .tag("reason", reason(reason))
                    .register(registry));
            }
            this.watcherErrors = Counter.builder(WATCHER_ERRORS).description("Watcher polls that failed")
                .register(registry);
        }

        private static Counter lockTimeouts(MeterRegistry registry, boolean retried) {
            return Counter.builder(LOCK_TIMEOUTS)
                .description("Migrations that hit the lock timeout, by whether they were tried again")
                .tag("retried", Boolean.toString(retried))
                .register(registry);
        }
    }
}
