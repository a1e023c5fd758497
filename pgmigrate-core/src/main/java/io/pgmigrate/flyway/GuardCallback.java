package io.pgmigrate.flyway;

import java.sql.SQLException;

import io.pgmigrate.core.internal.GuardedRun;
import org.flywaydb.core.api.FlywayException;
import org.flywaydb.core.api.MigrationInfo;
import org.flywaydb.core.api.callback.Callback;
import org.flywaydb.core.api.callback.Context;
import org.flywaydb.core.api.callback.Event;

/**
 * Tells the run which step runs on which connection: each migration, and the callbacks of every event.
 * <p>
 * How Flyway (11.14 to 12.x) runs callbacks, which this relies on:
 * <ul>
 * <li>It sorts all callbacks by {@link #getCallbackName()}, in a stable sort of the configured callbacks followed
 * by the SQL ones (SQL callbacks are named by their description: {@code afterMigrate__refresh.sql} is
 * {@code refresh}, {@code afterMigrate.sql} has an empty name) and, for each event,
 * runs them in that order on one connection: {@code beforeMigrate}, {@code afterMigrate},
 * {@code afterMigrateApplied}, {@code afterMigrateError}, {@code afterVersioned} and {@code beforeRepeatables}
 * on an "event" connection it opens for the event and closes after it; {@code afterConnect},
 * {@code beforeValidate}, {@code afterValidate} and the like on its main connection; {@code beforeEachMigrate},
 * {@code afterEachMigrate} and the statement events on the migration connection, inside the migration's
 * transaction when it has one.</li>
 * <li>It asks {@link #supports} first without a connection, to decide whether an event connection is worth
 * opening at all, then again with the connection the event's callbacks run on.</li>
 * </ul>
 * So this callback sorts before every other one (its name is empty, like that of a SQL callback without a
 * description, and it comes first in the configuration, which Flyway's stable sort keeps), claims the events it
 * is asked about with a
 * connection (never without one: Flyway would open an event connection for it alone), and marks the start of the
 * event's step before any callback of the event runs. The step lasts until the next one starts or its
 * connection is closed. The callbacks of {@code beforeEachMigrate} and {@code afterEachMigrate} belong to the
 * migration's step: they run in its transaction and are rolled back and retried with it. The statements of a step are
 * not callbacks' business: the guarded connection tells the watcher when each one starts.
 */
final class GuardCallback implements Callback {

    /** Sorts first; among other empty names, the configuration's order decides. */
    static final String NAME = "";

    private final GuardedRun run;

    GuardCallback(GuardedRun run) {
        this.run = run;
    }

    @Override
    public boolean supports(Event event, Context context) {
        // the statement events belong to the migration's step, and the guarded connection tells the watcher when a
        // statement starts: no callback for every statement (Flyway 13 would log a line for each)
        return context != null && context.getConnection() != null && event != Event.BEFORE_EACH_MIGRATE_STATEMENT
                && event != Event.AFTER_EACH_MIGRATE_STATEMENT && event != Event.AFTER_EACH_MIGRATE_STATEMENT_ERROR;
    }

    @Override
    public boolean canHandleInTransaction(Event event, Context context) {
        // nothing to run in a transaction: Flyway need not open one for this callback
        return false;
    }

    @Override
    public void handle(Event event, Context context) {
        try {
            switch (event) {
                case BEFORE_EACH_MIGRATE -> {
                    String migration = name(context.getMigrationInfo());
                    run.migrationStarting(context.getConnection(), migration,
                            (connected, now) -> new UnpinnedConnectionException(migration, connected, now));
                }
                case AFTER_EACH_MIGRATE -> run.migrationEnded(true);
                case AFTER_EACH_MIGRATE_ERROR -> run.migrationEnded(false);
                default -> run.callbackStarting(context.getConnection(), event.getId());
            }
        }
        catch (SQLException ex) {
            throw new FlywayException("pgmigrate could not register the " + event.getId() + " step with its watcher",
                    ex);
        }
    }

    @Override
    public String getCallbackName() {
        return NAME;
    }

    /** {@code 2 (add email)} for a versioned migration, {@code repeatable (views)} for a repeatable one. */
    static String name(MigrationInfo info) {
        if (info == null) {
            return "unknown";
        }
        String description = info.getDescription() == null ? "" : info.getDescription();
        return (info.getVersion() == null ? "repeatable" : info.getVersion().getVersion()) + " (" + description + ")";
    }
}
