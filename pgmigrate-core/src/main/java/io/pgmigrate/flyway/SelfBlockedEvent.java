package io.pgmigrate.flyway;

import java.time.Duration;

import io.pgmigrate.core.Blocker;

/**
 * A migration waits for a connection of its own Flyway run, which pgmigrate never ends. With Flyway's default
 * {@code postgresql.transactional.lock=true}, Flyway's main connection keeps a transaction open for its advisory
 * lock while another connection migrates, and a statement that waits for every older transaction (such as
 * {@code CREATE INDEX CONCURRENTLY}) then waits for Flyway itself: it can never finish on its own. Reported once
 * per migration and run, through {@link GuardListener#selfBlocked}, after pgmigrate's ERROR line.
 *
 * @param migration the waiting migration, for example {@code 3 (index orders)}
 * @param blocker Flyway's own connection as PostgreSQL reported it; {@link Blocker#blockedPid()} is the backend
 *        that runs the migration
 * @param lockTimeout the lock timeout that ends the wait with a failure, {@code null} when pgmigrate set none:
 *        then the migration waits until it is cancelled
 */
public record SelfBlockedEvent(String migration, Blocker blocker, Duration lockTimeout) {

    /** The Spring Boot property that ends the problem. */
    public static final String SPRING_BOOT_FIX = "spring.flyway.postgresql.transactional-lock=false";

    /** The plain Flyway setting that ends the problem, as written in {@code flyway.conf} or a configuration map. */
    public static final String FLYWAY_FIX = "flyway.postgresql.transactional.lock=false";
}
