package io.pgmigrate.flyway;

import java.sql.SQLException;

import org.flywaydb.core.api.FlywayException;
import org.flywaydb.core.api.callback.Callback;
import org.flywaydb.core.api.callback.Context;
import org.flywaydb.core.api.callback.Event;

/**
 * Tells the run which migration runs on which backend. Flyway fires these events on the migration
 * connection itself, BEFORE_EACH_MIGRATE inside the migration's transaction when it has one.
 */
final class GuardCallback implements Callback {

    private final GuardedRun run;

    GuardCallback(GuardedRun run) {
        this.run = run;
    }

    @Override
    public boolean supports(Event event, Context context) {
        return event == Event.BEFORE_EACH_MIGRATE || event == Event.AFTER_EACH_MIGRATE
                || event == Event.AFTER_EACH_MIGRATE_ERROR;
    }

    @Override
    public boolean canHandleInTransaction(Event event, Context context) {
        return true;
    }

    @Override
    public void handle(Event event, Context context) {
        switch (event) {
            case BEFORE_EACH_MIGRATE -> {
                try {
                    run.migrationStarting(context.getConnection(), context.getMigrationInfo());
                }
                catch (SQLException ex) {
                    throw new FlywayException("pgmigrate could not register the migration with its watcher", ex);
                }
            }
            case AFTER_EACH_MIGRATE -> run.migrationEnded(true);
            case AFTER_EACH_MIGRATE_ERROR -> run.migrationEnded(false);
            default -> {
            }
        }
    }

    @Override
    public String getCallbackName() {
        return "pgmigrate";
    }
}
