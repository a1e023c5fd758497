package io.pgmigrate.liquibase;

import java.sql.Connection;
import java.sql.SQLException;
import java.time.Duration;
import java.time.Instant;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Set;
import java.util.function.Consumer;
import java.util.function.Function;

import javax.sql.DataSource;

import io.pgmigrate.core.Blocker;
import io.pgmigrate.core.internal.BlockerText;
import io.pgmigrate.core.BlockingAction;
import io.pgmigrate.core.internal.Durations;
import io.pgmigrate.core.GuardListener;
import io.pgmigrate.core.GuardSettings;
import io.pgmigrate.core.internal.GuardedRun;
import io.pgmigrate.core.LockTimeoutEvent;
import io.pgmigrate.core.internal.LogLines;
import io.pgmigrate.core.NotPostgresException;
import io.pgmigrate.core.internal.RetryPolicy;
import io.pgmigrate.core.StandardBlockingAction;
import io.pgmigrate.core.WaitCancellation;
import io.pgmigrate.core.internal.Watcher;
import io.pgmigrate.core.WatcherConnectionException;
import liquibase.Contexts;
import liquibase.LabelExpression;
import liquibase.Liquibase;
import liquibase.exception.DatabaseException;
import liquibase.exception.LiquibaseException;
import org.slf4j.Logger;

/**
 * Runs a Liquibase update under the guard. Usable without Spring:
 * <pre>{@code
 * new LiquibaseGuard(GuardSettings.defaults().withLockTimeout(Duration.ofSeconds(5)).withLockRetries(3))
 *     .update(dataSource, (connection) -> new Liquibase("db/changelog/main.yaml",
 *             new ClassLoaderResourceAccessor(), new JdbcConnection(connection)));
 * }</pre>
 * Each attempt opens Liquibase's connection from the given DataSource through the guard, so that
 * <ul>
 * <li>it is registered, so it is never acted on while Liquibase has it, and prepared:
 * {@code application_name=pgmigrate-migration}, {@code client_connection_check_interval} and, when configured,
 * {@code lock_timeout}; they are put back when Liquibase closes it, so a pooled connection returns unchanged;</li>
 * <li>a {@code ChangeExecListener}, set in front of the one the Liquibase already has (which still gets every
 * event), has the watcher watch every changeset while it runs, named in reports as
 * {@code changeset 2-add-note::orders-team (db/changelog/orders.yaml)};</li>
 * <li>a {@link Watcher} of its own, on a connection of its own opened before Liquibase runs anything, deals with
 * the sessions that block a changeset through the {@link BlockingAction}. It is stopped before the update returns
 * or throws.</li>
 * </ul>
 * A changeset that runs in a transaction ({@code runInTransaction}, Liquibase's default) and fails on the lock
 * timeout (SQLSTATE 55P03) was rolled back by PostgreSQL; the update is tried again after a backoff, up to
 * {@link GuardSettings#lockRetries()} times (Liquibase skips the changesets already applied), then
 * {@link ChangeSetLockTimeoutException} is thrown. A changeset with {@code runInTransaction="false"} is never
 * retried: the exception says what it may have left (an INVALID index from {@code CREATE INDEX CONCURRENTLY}).
 * A changeset whose lock wait the watcher cancelled because the application queued behind it for too long is
 * handled the same way, with {@link ChangeSetStallException}. Liquibase's lock (the DATABASECHANGELOGLOCK row)
 * is Liquibase's business: another instance waiting for it runs no changeset and is never acted on, and a
 * pgmigrate session of another instance is never signalled.
 */
public final class LiquibaseGuard {

    /** The application_name of Liquibase's connection under the guard. */
    public static final String APPLICATION_NAME = GuardedRun.APPLICATION_NAME;

    /**
     * The {@code client_connection_check_interval} of Liquibase's connection (PostgreSQL 14 and later, left out
     * elsewhere), so that the backend of a changeset that waits for a lock ends soon after its JVM died.
     */
    public static final Duration CLIENT_CONNECTION_CHECK_INTERVAL = Duration.ofSeconds(1);

    private static final String CLIENT_CONNECTION_CHECK = "client_connection_check_interval";

    private static final Logger log = LogLines.logger("io.pgmigrate");

    /** Opens a Liquibase on the connection the guard prepared. */
    @FunctionalInterface
    public interface LiquibaseOpener {

        /**
         * @param connection the connection Liquibase must use; closing the Liquibase closes it
         * @return a Liquibase on that connection, for example
         *         {@code new Liquibase(changeLog, resourceAccessor, new JdbcConnection(connection))}
         */
        Liquibase open(Connection connection) throws LiquibaseException;
    }

    /**
     * One attempt of an update, for integrations that build Liquibase themselves (Spring's {@code SpringLiquibase}).
     */
    @FunctionalInterface
    public interface Attempt {

        /**
         * Runs the update once.
         * @param dataSource the DataSource Liquibase must take its connection from
         * @param guard to apply to the Liquibase before its update, after anything else that sets its
         *        {@code ChangeExecListener} (a {@code Customizer<Liquibase>})
         */
        void run(DataSource dataSource, Consumer<Liquibase> guard) throws LiquibaseException;
    }

    private final GuardSettings settings;
    private final BlockingAction action;
    private final GuardListener listener;
    private final Function<DataSource, DataSource> watcherDataSource;

    /**
     * A guard whose watcher takes its connection from the DataSource Liquibase updates with.
     * @param settings watcher, lock timeout and retry settings
     * @param action what to do with the sessions that block a changeset
     * @param listener receives the run's events and the watcher's
     */
    public LiquibaseGuard(GuardSettings settings, BlockingAction action, GuardListener listener) {
        this(settings, action, listener, Function.identity());
    }

    /** A guard that terminates blockers and has no listener besides the log. */
    public LiquibaseGuard(GuardSettings settings) {
        this(settings, StandardBlockingAction.TERMINATE, new GuardListener() {
        });
    }

    private LiquibaseGuard(GuardSettings settings, BlockingAction action, GuardListener listener,
            Function<DataSource, DataSource> watcherDataSource) {
        this.settings = Objects.requireNonNull(settings, "settings");
        this.action = Objects.requireNonNull(action, "action");
        this.listener = Objects.requireNonNull(listener, "listener");
        this.watcherDataSource = Objects.requireNonNull(watcherDataSource, "watcherDataSource");
    }

    /**
     * A copy of this guard whose watcher takes its connection from the given DataSource, not from Liquibase's: give
     * it one that is not a pool Liquibase and the application share.
     */
    public LiquibaseGuard withWatcherDataSource(DataSource dataSource) {
        Objects.requireNonNull(dataSource, "dataSource");
        return withWatcherDataSource((liquibaseDataSource) -> dataSource);
    }

    /**
     * A copy of this guard whose watcher takes its connection from a DataSource made, at the start of each run, from
     * the one Liquibase updates with (an unpooled one with the same URL and credentials, say).
     */
    public LiquibaseGuard withWatcherDataSource(Function<DataSource, DataSource> fromLiquibaseDataSource) {
        return new LiquibaseGuard(settings, action, listener, fromLiquibaseDataSource);
    }

    /**
     * Updates the database to the newest changesets, with no contexts or labels, under the guard.
     * @param dataSource where Liquibase's connection comes from, one per attempt
     * @param liquibase opens a Liquibase on the connection it is given
     * @see #update(DataSource, LiquibaseOpener, Contexts, LabelExpression)
     */
    public void update(DataSource dataSource, LiquibaseOpener liquibase) throws LiquibaseException {
        update(dataSource, liquibase, new Contexts(), new LabelExpression());
    }

    /**
     * Runs {@code liquibase.update(contexts, labels)} under the guard, on a Liquibase the opener makes for each
     * attempt; the Liquibase is closed (and its connection restored and closed) after each attempt.
     * @throws ChangeSetLockTimeoutException when a changeset hit the lock timeout and is not tried again
     * @throws ChangeSetStallException when pgmigrate cancelled a changeset's lock wait for the application's sake
     *         and it is not tried again
     * @throws WatcherConnectionException when the watcher could not get its connection; Liquibase was not started
     * @throws LiquibaseException when the update fails otherwise, as Liquibase reports it
     */
    public void update(DataSource dataSource, LiquibaseOpener liquibase, Contexts contexts, LabelExpression labels)
            throws LiquibaseException {
        Objects.requireNonNull(liquibase, "liquibase");
        run(dataSource, (guarded, guard) -> {
            Connection connection;
            try {
                connection = guarded.getConnection();
            }
            catch (SQLException ex) {
                throw new DatabaseException(ex);
            }
            Liquibase opened;
            try {
                opened = liquibase.open(connection);
            }
            catch (LiquibaseException | RuntimeException | Error ex) {
                try {
                    connection.close();
                }
                catch (SQLException closing) {
                    ex.addSuppressed(closing);
                }
                throw ex;
            }
            try (Liquibase update = opened) {
                guard.accept(update);
                update.update(contexts, labels);
            }
        });
    }

    /**
     * Runs an update under the guard, attempt after attempt, for an integration that builds the Liquibase itself.
     * On a database that is not PostgreSQL the guard steps aside after one INFO line and runs one unguarded attempt.
     * @param dataSource the DataSource Liquibase updates with
     * @param attempt runs one attempt with the guarded DataSource and the guard's hook
     * @throws ChangeSetLockTimeoutException see {@link #update(DataSource, LiquibaseOpener, Contexts, LabelExpression)}
     * @throws ChangeSetStallException see {@link #update(DataSource, LiquibaseOpener, Contexts, LabelExpression)}
     */
    public void run(DataSource dataSource, Attempt attempt) throws LiquibaseException {
        Objects.requireNonNull(dataSource, "dataSource");
        Objects.requireNonNull(attempt, "attempt");
        Instant started = Instant.now();
        DataSource watcherSource = watcherDataSource.apply(dataSource);
        if (watcherSource == null) {
            throw new LiquibaseException("pgmigrate: the watcher's DataSource function returned null for Liquibase's "
                    + "DataSource; it must return the DataSource the watcher connects with");
        }
        GuardedRun run = new GuardedRun(listener, settings.lockTimeout(), SelfBlock.TEXT, watcherSource,
                settings.watch(), action);
        Watcher watcher = run.watcher();
        try {
            // before Liquibase runs anything: a run whose watcher cannot connect fails here, so nothing runs unguarded
            watcher.start();
        }
        catch (NotPostgresException ex) {
            log.atInfo()
                .addKeyValue("database", ex.product())
                .log("pgmigrate: not guarding the update, the database is not PostgreSQL: database={}",
                        ex.product());
            attempt.run(dataSource, (liquibase) -> {
            });
            return;
        }
        catch (RuntimeException | Error ex) {
            run.events().runStarted(started);
            run.finish(started, String.valueOf(ex.getMessage()));
            throw ex;
        }
        run.events().runStarted(started);
        String failure = null;
        try {
            updateWithRetries(dataSource, attempt, run);
        }
        catch (LiquibaseException | RuntimeException | Error ex) {
            failure = String.valueOf(ex.getMessage());
            throw ex;
        }
        finally {
            watcher.close();
            run.finish(started, failure);
        }
    }

    private void updateWithRetries(DataSource dataSource, Attempt attempt, GuardedRun run) throws LiquibaseException {
        DataSource guarded = run.dataSource(dataSource, sessionSettings(), Set.of(CLIENT_CONNECTION_CHECK));
        Map<String, Blocker> blockersSeen = new LinkedHashMap<>();
        String lastChangeSet = null;
        for (int attemptNumber = 1;; attemptNumber++) {
            run.attemptStarting();
            try {
                attempt.run(guarded, (liquibase) -> ChangeSetListener.install(liquibase, run));
                return;
            }
            catch (LiquibaseException | RuntimeException ex) {
                UnpinnedChangeSetConnectionException unpinned = causeOfType(ex,
                        UnpinnedChangeSetConnectionException.class);
                if (unpinned != null) {
                    throw unpinned;
                }
                // Liquibase has no callbacks of its own to watch: a failure outside a changeset is not ours
                GuardedRun.Step failed = run.failed((event) -> false);
                WaitCancellation cancelled = failed == null ? null : run.watcher().cancelledWait(failed.pid());
                RetryPolicy.Verdict verdict = RetryPolicy.verdict(failed, cancelled, ex,
                        Thread.currentThread().isInterrupted(), attemptNumber, settings.lockRetries());
                switch (verdict) {
                    case NOT_OURS -> throw ex;
                    case INTERRUPTED -> throw interrupted(dataSource, failed, cancelled, ex);
                    case STALLED_OUTSIDE_TRANSACTION -> throw new ChangeSetStallException(failed.name(), cancelled,
                            attemptNumber, false, GuardedRun.invalidIndexesLeft(dataSource, failed), ex);
                    case STALLED_NO_RETRY_LEFT ->
                        throw new ChangeSetStallException(failed.name(), cancelled, attemptNumber, true, null, ex);
                    default -> {
                        // the retries and the lock-timeout verdicts, below
                    }
                }
                if (verdict == RetryPolicy.Verdict.RETRY_AFTER_STALL) {
                    Duration delay = settings.retryDelay(attemptNumber);
                    log.atWarn()
                        .addKeyValue("changeset", failed.name())
                        .addKeyValue("max_application_stall", Durations.human(cancelled.maxApplicationStall()))
                        .addKeyValue("attempt", attemptNumber)
                        .addKeyValue("retry_in", Durations.human(delay))
                        .log("pgmigrate: changeset's lock wait was cancelled because the application queued behind "
                                + "it, and it was rolled back; retrying: changeset=\"{}\" max_application_stall={} "
                                + "attempt={} retry_in={}", failed.name(),
                                Durations.human(cancelled.maxApplicationStall()), attemptNumber,
                                Durations.human(delay));
                    InterruptedException interrupted = pause(delay);
                    if (interrupted != null) {
                        ex.addSuppressed(interrupted);
                        throw ex;
                    }
                    continue;
                }
                if (!failed.name().equals(lastChangeSet)) {
                    blockersSeen.clear();
                    lastChangeSet = failed.name();
                }
                List<Blocker> blockers = failed.blockers();
                // the latest sighting of each blocking transaction: its age is the longest seen
                blockers.forEach((blocker) -> blockersSeen.put(blocker.key(), blocker));
                boolean retry = verdict.retried();
                run.events().lockTimeout(new LockTimeoutEvent(failed.name(), settings.lockTimeout(), attemptNumber,
                        retry, blockers));
                if (verdict == RetryPolicy.Verdict.LOCK_TIMEOUT_OUTSIDE_TRANSACTION) {
                    throw new ChangeSetLockTimeoutException(failed.name(), settings.lockTimeout(), attemptNumber,
                            false, blockers, failed.blockedByOwnConnection(), actionName(),
                            GuardedRun.invalidIndexesLeft(dataSource, failed), ex);
                }
                if (!retry) {
                    throw new ChangeSetLockTimeoutException(failed.name(), settings.lockTimeout(), attemptNumber,
                            true, List.copyOf(blockersSeen.values()), failed.blockedByOwnConnection(), actionName(),
                            null, ex);
                }
                Duration delay = settings.retryDelay(attemptNumber);
                log.atWarn()
                    .addKeyValue("changeset", failed.name())
                    .addKeyValue("lock_timeout", BlockerText.lockTimeout(settings.lockTimeout()))
                    .addKeyValue("attempt", attemptNumber)
                    .addKeyValue("retry_in", Durations.human(delay))
                    .addKeyValue("blockers", blockers.size())
                    .log("pgmigrate: changeset hit the lock timeout and was rolled back; retrying: changeset=\"{}\" "
                            + "lock_timeout={} attempt={} retry_in={} blockers={}", failed.name(),
                            BlockerText.lockTimeout(settings.lockTimeout()), attemptNumber, Durations.human(delay),
                            blockers.size());
                InterruptedException interrupted = pause(delay);
                if (interrupted != null) {
                    ex.addSuppressed(interrupted);
                    throw ex;
                }
            }
        }
    }

    /**
     * The failure of a changeset whose thread was interrupted while it waited for a lock: the watcher cancelled the
     * wait, and it is never retried. Says what is left of the changeset, as the other failures do.
     */
    private static LiquibaseException interrupted(DataSource dataSource, GuardedRun.Step failed,
            WaitCancellation cancelled, Exception cause) {
        StringBuilder message = RetryPolicy.interruptedMessage(failed, cancelled, "changeset");
        if (failed.inTransaction()) {
            message.append("\nPostgreSQL rolled it back: nothing of it is left, and DATABASECHANGELOG has no row "
                    + "for it.");
        }
        else {
            message.append(ChangeSetLockTimeoutException.NOT_ROLLED_BACK);
            ChangeSetLockTimeoutException.appendLeftovers(message, GuardedRun.invalidIndexesLeft(dataSource, failed));
        }
        return new LiquibaseException(message.toString(), cause);
    }

    private Map<String, String> sessionSettings() {
        Map<String, String> session = new LinkedHashMap<>();
        session.put("application_name", APPLICATION_NAME);
        if (settings.lockTimeout() != null) {
            // a bare number is milliseconds for lock_timeout
            session.put("lock_timeout", Long.toString(settings.lockTimeout().toMillis()));
        }
        session.put(CLIENT_CONNECTION_CHECK, Long.toString(CLIENT_CONNECTION_CHECK_INTERVAL.toMillis()));
        return session;
    }

    /** The blocking action's name as users configure it, or a custom action's class name. */
    private String actionName() {
        return action instanceof StandardBlockingAction standard ? standard.configName() : action.getClass().getName();
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

    /** Waits before the next attempt; the interrupt that ended the wait, if one did (the flag is set again). */
    private static InterruptedException pause(Duration delay) {
        try {
            Thread.sleep(delay.toMillis());
            return null;
        }
        catch (InterruptedException ex) {
            Thread.currentThread().interrupt();
            return ex;
        }
    }
}
