/**
 * The Flyway adapter: {@link io.pgmigrate.flyway.FlywayGuard} runs {@code Flyway.migrate()} with every
 * migration watched by a watcher, time-limited by {@code lock_timeout} and retried
 * when PostgreSQL rolled it back after a lock timeout. Needs flyway-core and flyway-database-postgresql on the
 * class path; nothing else in pgmigrate-core depends on Flyway.
 */
package io.pgmigrate.flyway;
