/**
 * The engine and the guarded run, for every migration tool. Applications use {@link io.pgmigrate.core.WatchSettings},
 * {@link io.pgmigrate.core.BlockingAction} (or {@link io.pgmigrate.core.StandardBlockingAction}) and
 * {@link io.pgmigrate.core.GuardListener}, and read the events' records; {@link io.pgmigrate.core.Watcher} watches
 * any backend pid. {@link io.pgmigrate.core.GuardedRun}, {@link io.pgmigrate.core.RetryPolicy} and
 * {@link io.pgmigrate.core.BlockerText} are for migration-tool adapters such as {@code io.pgmigrate.flyway}.
 */
package io.pgmigrate.core;
