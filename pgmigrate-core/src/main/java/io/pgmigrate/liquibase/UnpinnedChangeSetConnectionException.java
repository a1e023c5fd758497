package io.pgmigrate.liquibase;

import liquibase.exception.UnexpectedLiquibaseException;

/**
 * Thrown, and the changeset not started, when Liquibase's connection moved to another PostgreSQL backend since
 * pgmigrate prepared it: a transaction pooler (PgBouncer in transaction mode) hands out a server connection per
 * transaction, so the lock timeout and the protection pgmigrate set up would apply to another session.
 */
public class UnpinnedChangeSetConnectionException extends UnexpectedLiquibaseException {

    private static final long serialVersionUID = 1L;

    private final String changeSet;
    private final int preparedPid;
    private final int pid;

    /**
     * @param changeSet the changeset, for example {@code 2-add-note::orders-team (db/changelog/orders.yaml)}
     * @param preparedPid the backend the connection had when pgmigrate prepared it
     * @param pid the backend that would have run the changeset
     */
    public UnpinnedChangeSetConnectionException(String changeSet, int preparedPid, int pid) {
        super("pgmigrate: Liquibase's connection moved from PostgreSQL backend " + preparedPid + " to " + pid
                + " before changeset " + changeSet + ", which was not started: changeset=\"" + changeSet
                + "\" prepared_pid=" + preparedPid + " pid=" + pid
                + "\nConnect Liquibase directly to PostgreSQL or through a session-mode pooler, not a "
                + "transaction-mode one.");
        this.changeSet = changeSet;
        this.preparedPid = preparedPid;
        this.pid = pid;
    }

    /** The changeset that was not started. */
    public String changeSet() {
        return changeSet;
    }

    /** The backend the connection had when pgmigrate prepared it. */
    public int preparedPid() {
        return preparedPid;
    }

    /** The backend that would have run the changeset. */
    public int pid() {
        return pid;
    }
}
