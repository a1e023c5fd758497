package io.pgmigrate.benchmark;

import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.function.IntConsumer;

import org.flywaydb.core.api.callback.Callback;
import org.flywaydb.core.api.callback.Context;
import org.flywaydb.core.api.callback.Event;

/**
 * A Flyway callback that notes when the first migration of a run starts and on which backend. The
 * migration's first statement is the one that waits for the lock, so the start of the migration is the
 * start of its lock wait, give or take a round trip.
 */
final class MigrationProbe implements Callback {

    private final IntConsumer onMigrationBackend;
    private volatile long firstStartNanos;
    private volatile int backendPid;

    MigrationProbe(IntConsumer onMigrationBackend) {
        this.onMigrationBackend = onMigrationBackend;
    }

    MigrationProbe() {
        this(pid -> { });
    }

    /** {@link System#nanoTime()} when the first migration started, 0 if none did. */
    long firstStartNanos() {
        return firstStartNanos;
    }

    /** The backend pid of the last migration started, 0 if none did. */
    int backendPid() {
        return backendPid;
    }

    @Override
    public boolean supports(Event event, Context context) {
        return event == Event.BEFORE_EACH_MIGRATE;
    }

    @Override
    public boolean canHandleInTransaction(Event event, Context context) {
        return true;
    }

    @Override
    public void handle(Event event, Context context) {
        if (firstStartNanos == 0) {
            firstStartNanos = System.nanoTime();
        }
        try (Statement statement = context.getConnection().createStatement();
                ResultSet rows = statement.executeQuery("SELECT pg_backend_pid()")) {
            rows.next();
            backendPid = rows.getInt(1);
        }
        catch (SQLException ex) {
            throw new IllegalStateException("Could not read the migration's backend pid", ex);
        }
        onMigrationBackend.accept(backendPid);
    }

    @Override
    public String getCallbackName() {
        return "pgmigrate-bench-probe";
    }
}
