package io.pgmigrate.liquibase;

import io.pgmigrate.core.internal.GuardedRun;

/** What pgmigrate says when a changeset waits for a connection of its own run, which it never ends. */
final class SelfBlock {

    /** The first connection of an attempt is Liquibase's own, the one that runs every changeset. */
    static final String CAUSE = "Liquibase runs every changeset on its one connection, so a changeset that waits "
            + "for the first connection of the run waits for a transaction Liquibase itself left open.";

    static final String FIX = "commit the work a custom change or a listener does on Liquibase's connection before "
            + "the changeset needs the lock.";

    static final String OWN_CONNECTION_CAUSE = "The connection it waits for belongs to the same run (for example one "
            + "that a custom change opened through the DataSource Liquibase was given) and holds a lock the changeset "
            + "needs until the changeset itself ends: a deadlock within the run that no blocking action and no retry "
            + "can resolve.";

    static final String OWN_CONNECTION_FIX = "run the changeset's statements on Liquibase's own connection, or commit "
            + "or close the other connection before the changeset needs the lock.";

    static final GuardedRun.SelfBlockText TEXT = new GuardedRun.SelfBlockText("Liquibase's own connection", CAUSE, FIX,
            OWN_CONNECTION_CAUSE, OWN_CONNECTION_FIX);

    private SelfBlock() {
    }
}
