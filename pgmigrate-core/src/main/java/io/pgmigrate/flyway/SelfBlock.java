package io.pgmigrate.flyway;

/** What pgmigrate says when a migration waits for Flyway's own connection: the cause and the fix. */
final class SelfBlock {

    /** The cause, in one sentence. */
    static final String CAUSE = "With postgresql.transactional.lock=true (Flyway's default), Flyway's main "
            + "connection holds its advisory lock in a transaction that stays open for the whole run, and a "
            + "statement such as CREATE INDEX CONCURRENTLY waits for older transactions to end, so the migration "
            + "waits for Flyway itself, whose connection pgmigrate never ends.";

    /** Both fixes: Spring Boot's property and plain Flyway's setting. */
    static final String FIX = "set " + SelfBlockedEvent.SPRING_BOOT_FIX + " (Spring Boot) or "
            + "postgresql.transactional.lock=false (plain Flyway: " + SelfBlockedEvent.FLYWAY_FIX + " in flyway.conf, "
            + "or Flyway.configure().configuration(Map.of(\"flyway.postgresql.transactional.lock\", \"false\"))).";

    private SelfBlock() {
    }
}
