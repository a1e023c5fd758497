package io.pgmigrate.flyway;

import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.time.Instant;
import java.util.EnumSet;
import java.util.Set;

import javax.sql.DataSource;

import io.pgmigrate.core.GuardListener;
import io.pgmigrate.core.GuardSettings;
import io.pgmigrate.core.NotPostgresException;
import io.pgmigrate.core.WaitCancellation;
import io.pgmigrate.core.internal.GuardedRun;
import io.pgmigrate.core.internal.LogLines;
import org.flywaydb.core.api.FlywayException;
import org.flywaydb.core.api.callback.Callback;
import org.flywaydb.core.api.callback.Context;
import org.flywaydb.core.api.callback.Event;
import org.flywaydb.core.api.configuration.Configuration;
import org.slf4j.Logger;

/**
 * The guard for Flyway's own tools (the Maven and Gradle plugins, the command line), which load it from their
 * configuration alone: {@code flyway.callbacks=io.pgmigrate.flyway.PgMigrateCallback}, its settings under
 * {@code flyway.pgmigrate.*} ({@link PgMigrateConfiguration}). Applications guard {@code migrate()} with
 * {@link FlywayGuard} instead, which also retries a migration PostgreSQL rolled back.
 * <p>
 * A {@code migrate} run is guarded from its first migration or callback to Flyway's
 * {@code afterMigrateOperationFinish}: the watcher connects on a connection of its own, made from Flyway's URL, user
 * and password, and watches every migration and every callback Flyway runs, as {@link FlywayGuard} does; each of
 * Flyway's connections gets {@code application_name=pgmigrate-migration},
 * {@code client_connection_check_interval} ({@link FlywayGuard#CLIENT_CONNECTION_CHECK_INTERVAL}) and, when set,
 * {@code lock_timeout}, as the step that uses it starts. Flyway opens these connections itself and closes them at the
 * end of the run, so the settings are not put back. Other commands ({@code info}, {@code validate}, {@code clean})
 * are left alone.
 * <p>
 * What a callback cannot do: run a migration again. A migration that hits the lock timeout, or whose lock wait the
 * watcher cancelled because the application queued behind it for longer than {@code maxApplicationStall}, was rolled
 * back by PostgreSQL and fails the run; run {@code migrate} again. When Flyway was given a DataSource rather than a
 * URL (an application), this callback guards nothing and says so in one INFO line: use {@link FlywayGuard} there.
 */
public final class PgMigrateCallback implements Callback {

    private static final Logger log = LogLines.logger("io.pgmigrate");

    /** The events of {@code migrate} that start or belong to a guarded run. */
    private static final Set<Event> MIGRATE_EVENTS = EnumSet.of(Event.BEFORE_MIGRATE, Event.BEFORE_EACH_MIGRATE,
            Event.AFTER_EACH_MIGRATE, Event.AFTER_EACH_MIGRATE_ERROR, Event.BEFORE_REPEATABLES, Event.AFTER_VERSIONED,
            Event.AFTER_MIGRATE_APPLIED, Event.AFTER_MIGRATE, Event.AFTER_MIGRATE_ERROR);

    /** Events on a connection already prepared for its step: after an error its transaction is aborted. */
    private static final Set<Event> SAME_CONNECTION = EnumSet.of(Event.AFTER_EACH_MIGRATE,
            Event.AFTER_EACH_MIGRATE_ERROR);

    private static final String CLIENT_CONNECTION_CHECK = "client_connection_check_interval";

    // Flyway calls its callbacks from the thread that runs the command, one at a time
    private Connection mainConnection;
    private GuardedRun run;
    private GuardCallback steps;
    private GuardSettings settings;
    private boolean connectionCheck;
    private Instant started;
    private String failure;
    private boolean declined;

    /** Created by Flyway from its {@code callbacks} setting. */
    public PgMigrateCallback() {
    }

    /**
     * Follows the run from Flyway's question, as {@link GuardCallback} does, and never claims an event: Flyway then
     * writes no {@code Executing Java callback} line for pgmigrate (Flyway 13 writes one for every event a callback
     * supports).
     */
    @Override
    public boolean supports(Event event, Context context) {
        if (event == Event.AFTER_MIGRATE_OPERATION_FINISH) {
            if (run != null) {
                finish();
            }
        }
        // never without a connection: that question only decides whether Flyway opens an event connection
        else if (context != null && context.getConnection() != null) {
            follow(event, context);
        }
        return false;
    }

    @Override
    public boolean canHandleInTransaction(Event event, Context context) {
        return false;
    }

    @Override
    public void handle(Event event, Context context) {
        // never called: this callback supports no event, it follows them from supports
    }

    /** The event happens now, before any callback of it runs. */
    private void follow(Event event, Context context) {
        if (event == Event.AFTER_CONNECT) {
            // Flyway's main connection, which holds its lock; the settings fail the command here, before anything runs
            mainConnection = context.getConnection();
            settings(context.getConfiguration()).blockingAction();
            settings(context.getConfiguration()).guardSettings();
            return;
        }
        if (event == Event.BEFORE_EACH_MIGRATE_STATEMENT) {
            // the tool's own DataSource is not wrapped: the statement event starts the watcher's quick polls instead
            if (run != null && !declined) {
                run.statementStarting();
            }
            return;
        }
        if (!MIGRATE_EVENTS.contains(event) || declined || (run == null && !start(context.getConfiguration()))) {
            return;
        }
        try {
            if (!SAME_CONNECTION.contains(event)) {
                prepare(context.getConnection());
            }
        }
        catch (SQLException ex) {
            throw new FlywayException("pgmigrate could not prepare Flyway's connection for " + event.getId(), ex);
        }
        steps.follow(event, context);
        if (event == Event.AFTER_EACH_MIGRATE_ERROR) {
            failed(GuardCallback.name(context.getMigrationInfo()));
        }
        else if (event == Event.AFTER_MIGRATE_ERROR && failure == null) {
            failure = "migrate failed";
        }
    }

    @Override
    public String getCallbackName() {
        return GuardCallback.NAME;
    }

    private static PgMigrateConfiguration settings(Configuration configuration) {
        PgMigrateConfiguration settings = configuration.getPluginRegister().getExact(PgMigrateConfiguration.class);
        // the plugin is registered by the pgmigrate-flyway jar; without it, the defaults
        return settings != null ? settings : new PgMigrateConfiguration();
    }

    /** Starts the run at the first step of {@code migrate}; {@code false} when it guards nothing. */
    private boolean start(Configuration configuration) {
        if (configuration.getUrl() == null) {
            declined = true;
            log.info("pgmigrate: not guarding the migration, Flyway was given a DataSource rather than a URL; "
                    + "guard Flyway.migrate() with io.pgmigrate.flyway.FlywayGuard instead");
            return false;
        }
        PgMigrateConfiguration configured = settings(configuration);
        settings = configured.guardSettings();
        DataSource watcherDataSource = new UrlDataSource(configuration.getUrl(), configuration.getUser(),
                configuration.getPassword(), configuration.getClassLoader());
        GuardedRun guarded = new GuardedRun(new GuardListener() {
        }, settings.lockTimeout(), SelfBlock.TEXT, watcherDataSource, settings.watch(), configured.blockingAction());
        Instant now = Instant.now();
        try {
            guarded.watcher().start();
        }
        catch (NotPostgresException ex) {
            declined = true;
            log.atInfo()
                .addKeyValue("database", ex.product())
                .log("pgmigrate: not guarding the migration, the database is not PostgreSQL: database={}",
                        ex.product());
            return false;
        }
        connectionCheck = connectionCheckSupported(watcherDataSource);
        run = guarded;
        started = now;
        steps = new GuardCallback(guarded);
        run.events().runStarted(started);
        if (mainConnection != null) {
            try {
                // Flyway's main connection first: it is the run's lock connection, never acted on
                prepare(mainConnection);
                run.callbackStarting(mainConnection, Event.AFTER_CONNECT.getId());
            }
            catch (SQLException ex) {
                throw new FlywayException("pgmigrate could not prepare Flyway's main connection", ex);
            }
        }
        return true;
    }

    /** The step's connection: its session settings, in one statement; inside its transaction when it has one. */
    private void prepare(Connection connection) throws SQLException {
        StringBuilder sql = new StringBuilder("SELECT set_config('application_name', ?, false)");
        if (settings.lockTimeout() != null) {
            sql.append(", set_config('lock_timeout', ?, false)");
        }
        if (connectionCheck) {
            sql.append(", set_config('" + CLIENT_CONNECTION_CHECK + "', ?, false)");
        }
        try (PreparedStatement statement = connection.prepareStatement(sql.toString())) {
            int index = 1;
            statement.setString(index++, GuardedRun.APPLICATION_NAME);
            if (settings.lockTimeout() != null) {
                // a bare number is milliseconds for lock_timeout
                statement.setString(index++, Long.toString(settings.lockTimeout().toMillis()));
            }
            if (connectionCheck) {
                statement.setString(index, Long.toString(FlywayGuard.CLIENT_CONNECTION_CHECK_INTERVAL.toMillis()));
            }
            statement.executeQuery().close();
        }
    }

    /**
     * Whether the server takes {@code client_connection_check_interval} (PostgreSQL 14+, on platforms that can check
     * a socket), asked once on a short connection of its own: refused inside a migration's transaction, it would
     * abort it.
     */
    private static boolean connectionCheckSupported(DataSource dataSource) {
        try (Connection connection = dataSource.getConnection();
                PreparedStatement statement = connection.prepareStatement("SELECT set_config(?, ?, false)")) {
            statement.setString(1, CLIENT_CONNECTION_CHECK);
            statement.setString(2, Long.toString(FlywayGuard.CLIENT_CONNECTION_CHECK_INTERVAL.toMillis()));
            try (ResultSet ignored = statement.executeQuery()) {
                return true;
            }
        }
        catch (SQLException ex) {
            log.debug("client_connection_check_interval is not available on this server: {}", ex.getMessage());
            return false;
        }
    }

    /** A migration failed: when the watcher cancelled its lock wait, one line says what happened and what to do. */
    private void failed(String migration) {
        failure = "migration " + migration + " failed";
        GuardedRun.Step step = run.failed((event) -> false);
        WaitCancellation cancelled = step == null ? null : run.watcher().cancelledWait(step.pid());
        if (cancelled != null) {
            log.atError()
                .addKeyValue("migration", migration)
                .addKeyValue("pid", cancelled.pid())
                .log("pgmigrate: migration {} was rolled back after pgmigrate cancelled its lock wait, which kept "
                        + "the application queued (see the WARN line above); Flyway's tools do not retry it: run "
                        + "migrate again once the blocker has ended: migration=\"{}\" pid={}", migration, migration,
                        cancelled.pid());
        }
    }

    private void finish() {
        GuardedRun ending = run;
        run = null;
        steps = null;
        mainConnection = null;
        try {
            ending.watcher().close();
        }
        finally {
            ending.finish(started, failure);
            failure = null;
        }
    }
}
