/**
 * pgmigrate's API: the settings ({@link io.pgmigrate.core.WatchSettings}, {@link io.pgmigrate.core.GuardSettings}),
 * the action taken on a blocker ({@link io.pgmigrate.core.BlockingAction}, {@link io.pgmigrate.core.StandardBlockingAction}),
 * the one listener type ({@link io.pgmigrate.core.GuardListener}) and the records of its events. A migration tool is
 * guarded by its adapter, such as {@code io.pgmigrate.flyway.FlywayGuard}; the engine the adapters are built from is
 * in {@code io.pgmigrate.core.internal} and is not API.
 */
package io.pgmigrate.core;
