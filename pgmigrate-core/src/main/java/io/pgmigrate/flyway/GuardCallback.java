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
 * How Flyway (11.7 to 13.x) runs callbacks, which this relies on:
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
 * <li>When an event happens, it asks each callback, in that order, whether it {@link #supports} the event, with
 * the context of the event (its connection, its migration), before it runs the first callback that does. For the
 * events of an event connection it asks first without a connection, to decide whether the connection is worth
 * opening at all, then again with it.</li>
 * <li>From Flyway 13, it writes an INFO line ({@code Executing Java callback: beforeEachMigrate - ...}) each time it
 * runs a Java callback that is not its own.</li>
 * </ul>
 * So this callback sorts before every other one (its name is empty, like that of a SQL callback without a
 * description, and it comes first in the configuration, which Flyway's stable sort keeps) and follows the run from
 * Flyway's question itself: when asked about an event with a connection, it marks the start of the event's step
 * before any callback of the event runs, and answers that it does not support the event. Flyway then runs no
 * pgmigrate code of its own for it and writes no line for it: the tool's console shows only the lines of the
 * callbacks the user has. Never claiming an event without a connection also keeps Flyway from opening an event
 * connection for pgmigrate alone. The step lasts until the next one starts or its connection is closed. The
 * callbacks of {@code beforeEachMigrate} and {@code afterEachMigrate} belong to the migration's step: they run in
 * its transaction and are rolled back and retried with it. The statement events are not
 * followed: the guarded connection tells the watcher when each statement starts.
 */
final class GuardCallback implements Callback {

    /** Sorts first; among other empty names, the configuration's order decides. */
    static final String NAME = "";

    private final GuardedRun run;
    /** The event followed last and its context: Flyway asking twice about one event starts its step once. */
    private Event followedEvent;
    private Context followed;

    GuardCallback(GuardedRun run) {
        this.run = run;
    }

    /** Follows the event when it comes with a connection; never claims it (see the class's description). */
    @Override
    public boolean supports(Event event, Context context) {
        if (context != null && context.getConnection() != null) {
            follow(event, context);
        }
        return false;
    }

    @Override
    public boolean canHandleInTransaction(Event event, Context context) {
        // nothing to run in a transaction: Flyway need not open one for this callback
        return false;
    }

    @Override
    public void handle(Event event, Context context) {
        // never called: this callback supports no event, it follows them from supports
    }

    /**
     * The event happens now on the context's connection, before any callback of it runs: the step it starts or
     * ends. Flyway's statement events belong to the migration's step, and the guarded connection tells the watcher
     * when a statement starts.
     */
    void follow(Event event, Context context) {
        if ((event == followedEvent && context == followed) || event == Event.BEFORE_EACH_MIGRATE_STATEMENT
                || event == Event.AFTER_EACH_MIGRATE_STATEMENT || event == Event.AFTER_EACH_MIGRATE_STATEMENT_ERROR) {
            return;
        }
        followedEvent = event;
        followed = context;
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
