package io.pgmigrate.flyway;

import org.flywaydb.core.api.FlywayException;

/**
 * Thrown by {@link FlywayGuard#migrate} when a migration's connection no longer runs on the PostgreSQL backend it
 * was opened on, as happens behind a connection pooler in transaction pooling mode (PgBouncer
 * {@code pool_mode=transaction}). The guard cannot protect such a connection: the {@code lock_timeout} and
 * {@code application_name} it set stayed on the first backend, and the watcher would watch a backend that other
 * clients use. The check runs as the migration starts, before any of its statements: nothing of the migration
 * ran, and the schema history has no row for it.
 */
public class UnpinnedConnectionException extends FlywayException {

    private final String migration;
    private final int connectedPid;
    private final int currentPid;

    /**
     * @param migration the migration, for example {@code 2 (add email)}
     * @param connectedPid the backend pid when the connection was opened
     * @param currentPid the backend pid as the migration started
     */
    public UnpinnedConnectionException(String migration, int connectedPid, int currentPid) {
        super("pgmigrate: migration " + migration + " was not started: its connection moved from PostgreSQL backend "
                + "pid " + connectedPid + " to pid " + currentPid + ", as it does behind a connection pooler in "
                + "transaction pooling mode (PgBouncer pool_mode=transaction). pgmigrate cannot guard such a "
                + "connection, since its lock_timeout and application_name stayed on the first backend: migration=\""
                + migration + "\" connected_pid=" + connectedPid + " current_pid=" + currentPid
                + "\nPoint Flyway at PostgreSQL directly, or at a pooler database in session pooling mode, then "
                + "migrate again.");
        this.migration = migration;
        this.connectedPid = connectedPid;
        this.currentPid = currentPid;
    }

    /** The migration that was not started, for example {@code 2 (add email)}. */
    public String migration() {
        return migration;
    }

    /** The backend pid when Flyway opened the connection. */
    public int connectedPid() {
        return connectedPid;
    }

    /** The backend pid that would have run the migration. */
    public int currentPid() {
        return currentPid;
    }
}
