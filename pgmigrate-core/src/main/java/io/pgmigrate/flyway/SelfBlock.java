package io.pgmigrate.flyway;

import io.pgmigrate.core.internal.GuardedRun;

/**
 * What pgmigrate says when a step waits for a connection of its own run, which it never ends: the cause and the
 * fix, one pair for Flyway's lock connection and one for any other connection of the run.
 */
final class SelfBlock {

    /** The cause, in one sentence. */
    static final String CAUSE = "With postgresql.transactional.lock=true (Flyway's default), Flyway's main "
            + "connection holds its advisory lock in a transaction that stays open for the whole run, and a "
            + "statement such as CREATE INDEX CONCURRENTLY waits for older transactions to end, so the migration "
            + "waits for Flyway itself, whose connection pgmigrate never ends.";

    /** Both fixes: Spring Boot's property and plain Flyway's setting. */
    static final String FIX = "set " + FlywayGuard.SPRING_BOOT_TRANSACTIONAL_LOCK_FIX + " (Spring Boot) or "
            + "postgresql.transactional.lock=false (plain Flyway: " + FlywayGuard.FLYWAY_TRANSACTIONAL_LOCK_FIX + " in flyway.conf, "
            + "or in Java configuration.getConfigurationExtension(PostgreSQLConfigurationExtension.class)"
            + ".setTransactionalLock(false)).";

    /** The cause, in one sentence, when the step waits for another connection of its run than Flyway's lock one. */
    static final String OWN_CONNECTION_CAUSE = "The connection it waits for belongs to the same run (for example one "
            + "that a Java migration or callback opened through Flyway's DataSource) and holds a lock the step needs "
            + "until the step itself ends: a deadlock within the run that no blocking action and no retry can resolve.";

    /** The fix for a wait for another connection of the run. */
    static final String OWN_CONNECTION_FIX = "run the step's statements on the connection Flyway gives it "
            + "(Context.getConnection()), or commit or close the other connection before the step needs the lock.";

    /** All of it, for the run's ERROR lines. */
    static final GuardedRun.SelfBlockText TEXT = new GuardedRun.SelfBlockText("Flyway's own connection", CAUSE, FIX,
            OWN_CONNECTION_CAUSE, OWN_CONNECTION_FIX);

    private SelfBlock() {
    }
}
