package io.pgmigrate.flyway;

import java.sql.SQLException;
import java.time.Duration;
import java.time.Instant;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Set;
import java.util.function.Function;

import javax.sql.DataSource;

import io.pgmigrate.core.Blocker;
import io.pgmigrate.core.BlockingAction;
import io.pgmigrate.core.GuardListener;
import io.pgmigrate.core.GuardSettings;
import io.pgmigrate.core.LockTimeoutEvent;
import io.pgmigrate.core.NotPostgresException;
import io.pgmigrate.core.StandardBlockingAction;
import io.pgmigrate.core.WaitCancellation;
import io.pgmigrate.core.WatcherConnectionException;
import io.pgmigrate.core.internal.BlockerText;
import io.pgmigrate.core.internal.Durations;
import io.pgmigrate.core.internal.GuardedRun;
import io.pgmigrate.core.internal.LogLines;
import io.pgmigrate.core.internal.RetryPolicy;
import io.pgmigrate.core.internal.Watcher;
import org.flywaydb.core.Flyway;
import org.flywaydb.core.api.FlywayException;
import org.flywaydb.core.api.callback.Callback;
import org.flywaydb.core.api.configuration.ClassicConfiguration;
import org.flywaydb.core.api.configuration.Configuration;
import org.flywaydb.core.api.configuration.FluentConfiguration;
import org.flywaydb.core.api.output.MigrateResult;
import org.slf4j.Logger;

/**
 * Runs {@code Flyway.migrate()} under the guard. Usable without Spring:
 * <pre>{@code
 * Flyway flyway = Flyway.configure().dataSource(dataSource).load();
 * new FlywayGuard(GuardSettings.defaults().withLockTimeout(Duration.ofSeconds(5)).withLockRetries(3))
 *     .migrate(flyway);
 * }</pre>
 * Each call migrates with a copy of the Flyway's configuration in which
 * <ul>
 * <li>every connection Flyway opens is registered, so it is never acted on while Flyway has it, and prepared:
 * {@code application_name=pgmigrate-migration}, {@code client_connection_check_interval} (see
 * {@link #CLIENT_CONNECTION_CHECK_INTERVAL}) and, when configured, {@code lock_timeout}; they are put back, with
 * the autocommit mode, when Flyway closes it, so a pooled connection returns unchanged, and from then on it is
 * no longer protected;</li>
 * <li>a callback, added to those already configured and sorted before them, has the watcher watch every step
 * Flyway runs: each migration (SQL, Java, repeatable) and the callbacks of every event (SQL and Java), on every
 * connection of the run, each named in reports ({@code migration 2 (add email)}, {@code callback afterMigrate});</li>
 * <li>a {@link Watcher} of its own deals with the sessions that block a migration through the
 * {@link BlockingAction}. Its connection is opened before Flyway runs anything, from Flyway's DataSource or from
 * the one given to {@link #withWatcherDataSource(DataSource)}; when it cannot get one, {@code migrate} fails at
 * once with {@link WatcherConnectionException}. It is stopped before {@code migrate} returns or throws.</li>
 * </ul>
 * The watcher holds a connection for the whole run. When Flyway's DataSource is a pool shared with the application,
 * give the watcher a DataSource of its own, so that it never waits for a connection Flyway or the application
 * holds:
 * <pre>{@code
 * new FlywayGuard(settings).withWatcherDataSource(unpooledDataSource).migrate(flyway);
 * }</pre>
 * A transactional migration that fails on the lock timeout (SQLSTATE 55P03) was rolled back by PostgreSQL; it
 * is tried again after a backoff, up to {@link GuardSettings#lockRetries()} times, then
 * {@link LockTimeoutExhaustedException} is thrown. A migration outside a transaction is never retried
 * ({@link NonTransactionalLockTimeoutException}), nor is a callback ({@link CallbackLockTimeoutException}), nor a
 * migration that waited for another connection of its own run (a deadlock: one attempt only). The same holds for a
 * migration whose lock wait the watcher cancelled because the application queued behind it for longer than
 * {@link io.pgmigrate.core.WatchSettings#maxApplicationStall()}: it is retried like one that hit the lock timeout
 * (the retries are counted together), then {@link ApplicationStallException} is thrown; one outside a transaction,
 * and a callback, are not retried. The result returned is that of the last attempt.
 * <p>
 * An interrupt of the calling thread while a step waits for a lock cancels that wait; {@code migrate} then throws
 * without retrying, with the thread's interrupt flag still set. The watcher's thread has ended whenever
 * {@code migrate} returns or throws.
 */
public final class FlywayGuard {

    /** The application_name of every connection Flyway opens under the guard. */
    public static final String APPLICATION_NAME = GuardedRun.APPLICATION_NAME;

    /**
     * The {@code client_connection_check_interval} of Flyway's connections (PostgreSQL 14 and later, on platforms
     * that support it; elsewhere it is left out). PostgreSQL notices that a client went away only when it next
     * reads from it, so the backend of a migration that waits for a lock would outlive a JVM that died
     * ({@code kill -9}, a failed start-up probe) and keep the table's lock queue stalled, and the next instance
     * would see it as another instance's migration. With this setting the backend checks its socket while a
     * statement runs and ends itself within about this long after the client is gone. One second: well below the
     * time an application tolerates a stall (and below the watcher's default bound on it,
     * {@link io.pgmigrate.core.WatchSettings#DEFAULT_MAX_APPLICATION_STALL}), while the check itself, one
     * {@code poll()} of the socket per interval and only while a statement runs, costs nothing measurable.
     */
    public static final Duration CLIENT_CONNECTION_CHECK_INTERVAL = Duration.ofSeconds(1);

    /**
     * The Spring Boot property that ends a migration's wait for Flyway's own main connection (see
     * {@link io.pgmigrate.core.SelfBlockedEvent}).
     */
    public static final String SPRING_BOOT_TRANSACTIONAL_LOCK_FIX = "spring.flyway.postgresql.transactional-lock=false";

    /** The same for plain Flyway, as written in {@code flyway.conf} or a configuration map. */
    public static final String FLYWAY_TRANSACTIONAL_LOCK_FIX = "flyway.postgresql.transactional.lock=false";

    private static final String CLIENT_CONNECTION_CHECK = "client_connection_check_interval";

    private static final Logger log = LogLines.logger("io.pgmigrate");

    private final GuardSettings settings;
    private final BlockingAction action;
    private final GuardListener listener;
    /** The watcher's DataSource, given the one Flyway migrates with. */
    private final Function<DataSource, DataSource> watcherDataSource;

    /**
     * A guard whose watcher takes its connection from Flyway's DataSource.
     * @param settings watcher, lock timeout and retry settings
     * @param action what to do with the sessions that block a migration
     * @param listener receives the run's events and the watcher's
     */
    public FlywayGuard(GuardSettings settings, BlockingAction action, GuardListener listener) {
        this(settings, action, listener, Function.identity());
    }

    private FlywayGuard(GuardSettings settings, BlockingAction action, GuardListener listener,
            Function<DataSource, DataSource> watcherDataSource) {
        this.settings = Objects.requireNonNull(settings, "settings");
        this.action = Objects.requireNonNull(action, "action");
        this.listener = Objects.requireNonNull(listener, "listener");
        this.watcherDataSource = Objects.requireNonNull(watcherDataSource, "watcherDataSource");
    }

    /** A guard that terminates blockers and has no listener besides the log. */
    public FlywayGuard(GuardSettings settings) {
        this(settings, StandardBlockingAction.TERMINATE, new GuardListener() {
        });
    }

    /**
     * A copy of this guard whose watcher takes its connection from the given DataSource instead of Flyway's. Give it
     * one that is not a pool Flyway and the application share: an unpooled DataSource to the same database, or a
     * pool of its own. The watcher connects to it at the start of each run, with
     * {@code application_name=pgmigrate-watcher}, and holds one connection until the run ends.
     * @param dataSource the watcher's DataSource, for every run
     */
    public FlywayGuard withWatcherDataSource(DataSource dataSource) {
        Objects.requireNonNull(dataSource, "dataSource");
        return withWatcherDataSource((flywayDataSource) -> dataSource);
    }

    /**
     * A copy of this guard whose watcher takes its connection from a DataSource made, at the start of each run, from
     * the one Flyway migrates with; for example an unpooled DataSource with the same URL and credentials, as the
     * Spring Boot auto-configuration does. See {@link #withWatcherDataSource(DataSource)}.
     * @param fromFlywayDataSource gets Flyway's DataSource, returns the watcher's (never {@code null})
     */
    public FlywayGuard withWatcherDataSource(Function<DataSource, DataSource> fromFlywayDataSource) {
        return new FlywayGuard(settings, action, listener, fromFlywayDataSource);
    }

    /**
     * Migrates with the given Flyway's configuration under the guard. The Flyway itself is left as it is. On a
     * database that is not PostgreSQL (told by the watcher's connection, see {@link NotPostgresException}) the guard
     * steps aside after one INFO line: this is then the Flyway's own {@code migrate()}, unguarded.
     * @return the result of the last attempt
     * @throws LockTimeoutExhaustedException when a transactional migration hit the lock timeout on every attempt
     * @throws NonTransactionalLockTimeoutException when a migration outside a transaction hit the lock timeout
     * @throws CallbackLockTimeoutException when a Flyway callback hit the lock timeout
     * @throws ApplicationStallException when pgmigrate cancelled a step's lock wait because the application queued
     *         behind it for longer than max-application-stall, and no retry is left (or it is a callback or runs
     *         outside a transaction)
     * @throws UnpinnedConnectionException when a migration's connection moved to another backend (a transaction
     *         pooler); the migration was not started
     * @throws WatcherConnectionException when the watcher could not get its connection; Flyway was not started
     * @throws FlywayException when the migration fails otherwise, as Flyway reports it
     */
    public MigrateResult migrate(Flyway flyway) {
        Configuration configuration = flyway.getConfiguration();
        DataSource dataSource = configuration.getDataSource();
        if (dataSource == null) {
            throw new FlywayException("pgmigrate: Flyway has no DataSource to migrate; configure one "
                    + "(Flyway.configure().dataSource(...)) before calling FlywayGuard.migrate");
        }
        Instant started = Instant.now();
        GuardedRun run = new GuardedRun(listener, settings.lockTimeout(), SelfBlock.TEXT, watcherDataSource(dataSource),
                settings.watch(), action);
        Watcher watcher = run.watcher();
        try {
            // before Flyway runs anything: a run whose watcher cannot connect fails here, so nothing runs unguarded;
            // the watcher's connection also tells whether the database is PostgreSQL, so that costs no connection
            watcher.start();
        }
        catch (NotPostgresException ex) {
            log.atInfo()
                .addKeyValue("database", ex.product())
                .log("pgmigrate: not guarding the migration, the database is not PostgreSQL: database={}",
                        ex.product());
            return flyway.migrate();
        }
        catch (RuntimeException | Error ex) {
            run.events().runStarted(started);
            run.finish(started, String.valueOf(ex.getMessage()));
            throw ex;
        }
        // the polling thread watches nothing until Flyway's first step, which comes after this event
        run.events().runStarted(started);
        String failure = null;
        try {
            return migrateWithRetries(configuration, dataSource, run);
        }
        catch (RuntimeException | Error ex) {
            failure = String.valueOf(ex.getMessage());
            throw ex;
        }
        finally {
            watcher.close();
            run.finish(started, failure);
        }
    }

    private MigrateResult migrateWithRetries(Configuration configuration, DataSource dataSource, GuardedRun run) {
        Map<String, Blocker> blockersSeen = new LinkedHashMap<>();
        String lastMigration = null;
        for (int attempt = 1;; attempt++) {
            run.attemptStarting();
            try {
                return guardedCopy(configuration, dataSource, run).migrate();
            }
            catch (FlywayException ex) {
                UnpinnedConnectionException unpinned = causeOfType(ex, UnpinnedConnectionException.class);
                if (unpinned != null) {
                    // Flyway wraps what the callback threw; the guard's own explanation is the one to show
                    throw unpinned;
                }
                GuardedRun.Step failed = run.failed((event) -> callbackFailed(ex, event));
                // asked whatever the failure, so a cancellation never lingers into the next attempt
                WaitCancellation cancelled = failed == null ? null : run.watcher().cancelledWait(failed.pid());
                // the interrupt flag stays set for the caller; an interrupted run is never retried
                RetryPolicy.Verdict verdict = RetryPolicy.verdict(failed, cancelled, ex,
                        Thread.currentThread().isInterrupted(), attempt, settings.lockRetries());
                switch (verdict) {
                    case NOT_OURS -> throw ex;
                    case INTERRUPTED -> throw interrupted(dataSource, failed, cancelled, ex);
                    case STALLED_CALLBACK ->
                        throw ApplicationStallException.ofCallback(failed.name(), cancelled, run.applied(), ex);
                    case STALLED_OUTSIDE_TRANSACTION -> throw new ApplicationStallException(failed.name(), cancelled,
                            attempt, false, GuardedRun.invalidIndexesLeft(dataSource, failed), ex);
                    case STALLED_NO_RETRY_LEFT ->
                        throw new ApplicationStallException(failed.name(), cancelled, attempt, true, null, ex);
                    default -> {
                        // the lock-timeout verdicts and the retries, below
                    }
                }
                if (verdict == RetryPolicy.Verdict.RETRY_AFTER_STALL) {
                    Duration delay = settings.retryDelay(attempt);
                    log.atWarn()
                        .addKeyValue("migration", failed.name())
                        .addKeyValue("max_application_stall", Durations.human(cancelled.maxApplicationStall()))
                        .addKeyValue("attempt", attempt)
                        .addKeyValue("retry_in", Durations.human(delay))
                        .log("pgmigrate: migration's lock wait was cancelled because the application queued behind "
                                + "it, and it was rolled back; retrying: migration=\"{}\" max_application_stall={} "
                                + "attempt={} retry_in={}", failed.name(),
                                Durations.human(cancelled.maxApplicationStall()), attempt, Durations.human(delay));
                    pause(delay, ex);
                    continue;
                }
                if (verdict == RetryPolicy.Verdict.LOCK_TIMEOUT_CALLBACK) {
                    // never retried: a second migrate() would run other callbacks than the ones that failed
                    LockTimeoutEvent event = new LockTimeoutEvent(failed.work(), settings.lockTimeout(), attempt,
                            false, failed.blockers());
                    run.events().lockTimeout(event);
                    throw new CallbackLockTimeoutException(failed.name(), settings.lockTimeout(), failed.blockers(),
                            run.applied(), failed.blockedByOwnConnection(), actionName(), ex);
                }
                if (!failed.name().equals(lastMigration)) {
                    blockersSeen.clear();
                    lastMigration = failed.name();
                }
                List<Blocker> blockers = failed.blockers();
                // the latest sighting of each blocking transaction: its age is the longest seen
                blockers.forEach((blocker) -> blockersSeen.put(blocker.key(), blocker));
                boolean retry = verdict.retried();
                LockTimeoutEvent event = new LockTimeoutEvent(failed.name(), settings.lockTimeout(), attempt, retry,
                        blockers);
                if (verdict == RetryPolicy.Verdict.LOCK_TIMEOUT_OUTSIDE_TRANSACTION) {
                    run.events().lockTimeout(event);
                    throw new NonTransactionalLockTimeoutException(failed.name(), settings.lockTimeout(), blockers,
                            failed.selfBlocked(), failed.blockedByOwnConnection(), GuardedRun.invalidIndexesLeft(dataSource,
                                    failed), ex);
                }
                if (!retry) {
                    run.events().lockTimeout(event);
                    throw new LockTimeoutExhaustedException(failed.name(), settings.lockTimeout(), attempt,
                            List.copyOf(blockersSeen.values()), failed.blockedByOwnConnection(), actionName(), ex);
                }
                Duration delay = settings.retryDelay(attempt);
                log.atWarn()
                    .addKeyValue("migration", failed.name())
                    .addKeyValue("lock_timeout", BlockerText.lockTimeout(settings.lockTimeout()))
                    .addKeyValue("attempt", attempt)
                    .addKeyValue("retry_in", Durations.human(delay))
                    .addKeyValue("blockers", blockers.size())
                    .log("pgmigrate: migration hit the lock timeout and was rolled back; retrying: migration=\"{}\" "
                            + "lock_timeout={} attempt={} retry_in={} blockers={}", failed.name(),
                            BlockerText.lockTimeout(settings.lockTimeout()), attempt, Durations.human(delay),
                            blockers.size());
                run.events().lockTimeout(event);
                pause(delay, ex);
            }
        }
    }

    private DataSource watcherDataSource(DataSource flywayDataSource) {
        DataSource watcher = watcherDataSource.apply(flywayDataSource);
        if (watcher == null) {
            throw new FlywayException("pgmigrate: the watcher's DataSource function returned null for Flyway's "
                    + "DataSource; it must return the DataSource the watcher connects with");
        }
        return watcher;
    }

    /** The blocking action's name as users configure it, or a custom action's class name. */
    private String actionName() {
        return action instanceof StandardBlockingAction standard ? standard.configName() : action.getClass().getName();
    }

    private Flyway guardedCopy(Configuration configuration, DataSource dataSource, GuardedRun run) {
        Map<String, String> session = new LinkedHashMap<>();
        session.put("application_name", APPLICATION_NAME);
        if (settings.lockTimeout() != null) {
            // a bare number is milliseconds for lock_timeout
            session.put("lock_timeout", Long.toString(settings.lockTimeout().toMillis()));
        }
        // milliseconds too; PostgreSQL 14+ on platforms that can check a socket, left out elsewhere
        session.put(CLIENT_CONNECTION_CHECK, Long.toString(CLIENT_CONNECTION_CHECK_INTERVAL.toMillis()));
        Callback callback = new GuardCallback(run);
        FluentConfiguration copy = Flyway.configure(configuration.getClassLoader())
            .configuration(configuration)
            .dataSource(run.dataSource(dataSource, session, Set.of(CLIENT_CONNECTION_CHECK)));
        // first: Flyway sorts the callbacks by name in a stable sort, and this one must run before any other
        copy.callbacks(prepend(callback, copy.getCallbacks()));
        Flyway guarded = copy.load();
        Callback[] loaded = guarded.getConfiguration().getCallbacks();
        if (!Arrays.asList(loaded).contains(callback)) {
            // Flyway's constructor replaces the callbacks when it finds Java callbacks in the package db.callback
            if (!(guarded.getConfiguration() instanceof ClassicConfiguration classic)) {
                throw new FlywayException("pgmigrate could not add its callback to Flyway's configuration");
            }
            classic.setCallbacks(prepend(callback, loaded));
        }
        return guarded;
    }

    private static Callback[] prepend(Callback callback, Callback[] callbacks) {
        Callback[] all = new Callback[callbacks.length + 1];
        all[0] = callback;
        System.arraycopy(callbacks, 0, all, 1, callbacks.length);
        return all;
    }

    /** Whether Flyway's failure says a callback of the event failed ("Error while executing afterMigrate callback"). */
    private static boolean callbackFailed(Throwable failure, String event) {
        String marker = "Error while executing " + event + " callback";
        Throwable current = failure;
        for (int depth = 0; current != null && depth < 32; depth++) {
            if (current.getMessage() != null && current.getMessage().contains(marker)) {
                return true;
            }
            current = current.getCause();
        }
        return false;
    }

    private static <T extends Throwable> T causeOfType(Throwable failure, Class<T> type) {
        Throwable current = failure;
        for (int depth = 0; current != null && depth < 32; depth++) {
            if (type.isInstance(current)) {
                return type.cast(current);
            }
            current = current.getCause();
        }
        return null;
    }

    /**
     * The failure of a migration whose lock wait the watcher cancelled because its thread was interrupted: what
     * happened and, for a migration outside a transaction, what it may have left.
     */
    private static FlywayException interrupted(DataSource dataSource, GuardedRun.Step failed,
            WaitCancellation cancelled, FlywayException cause) {
        StringBuilder message = RetryPolicy.interruptedMessage(failed, cancelled,
                failed.callback() ? "callback" : "migration");
        if (failed.callback()) {
            message.append(ApplicationStallException.CALLBACK_LEFT);
        }
        else if (failed.inTransaction()) {
            message.append("\nPostgreSQL rolled it back: nothing of it is left, and the schema history has no row "
                    + "for it.");
        }
        else {
            message.append(NonTransactionalLockTimeoutException.NOT_ROLLED_BACK);
            NonTransactionalLockTimeoutException.appendLeftovers(message, GuardedRun.invalidIndexesLeft(dataSource, failed));
        }
        return new FlywayException(message.toString(), cause);
    }

    private static void pause(Duration delay, FlywayException failure) {
        try {
            Thread.sleep(delay.toMillis());
        }
        catch (InterruptedException ex) {
            Thread.currentThread().interrupt();
            failure.addSuppressed(ex);
            throw failure;
        }
    }
}
