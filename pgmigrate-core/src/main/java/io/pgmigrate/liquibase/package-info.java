/**
 * The Liquibase adapter: {@link io.pgmigrate.liquibase.LiquibaseGuard} runs a Liquibase update with every changeset
 * watched by a {@link io.pgmigrate.core.Watcher}, time-limited by {@code lock_timeout} and retried when PostgreSQL
 * rolled it back after a lock timeout. Needs liquibase-core 4.x on the class path; nothing else in pgmigrate-core
 * depends on Liquibase.
 */
package io.pgmigrate.liquibase;
