package io.pgmigrate.core;

import java.time.Duration;

import org.jspecify.annotations.Nullable;

/**
 * A migration waits for a connection of its own run, which pgmigrate never ends, so it cannot finish on its own.
 * With Flyway's default {@code postgresql.transactional.lock=true}, for example, Flyway's main connection keeps a
 * transaction open for its advisory lock while another connection migrates, and a statement that waits for every
 * older transaction (such as {@code CREATE INDEX CONCURRENTLY}) then waits for Flyway itself. Reported once per
 * migration and run, through {@link GuardListener#selfBlocked}, after pgmigrate's ERROR line.
 *
 * @param migration the waiting migration, for example {@code 3 (index orders)}
 * @param blocker the run's own connection as PostgreSQL reported it (Flyway's main connection);
 *        {@link Blocker#blockedPid()} is the backend that runs the migration
 * @param lockTimeout the lock timeout that ends the wait with a failure, {@code null} when pgmigrate set none:
 *        then the migration waits until it is cancelled
 */
public record SelfBlockedEvent(String migration, Blocker blocker, @Nullable Duration lockTimeout) {
}
