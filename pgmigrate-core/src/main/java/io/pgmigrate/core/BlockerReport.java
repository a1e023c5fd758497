package io.pgmigrate.core;

/**
 * What happened to one blocker, reported once per blocking transaction and outcome.
 *
 * @param blocker the blocker as PostgreSQL reported it
 * @param blockedWork what the blocked backend was doing, as the adapter registered it with the watcher, for
 *        example {@code migration 2 (add email to users)}
 * @param outcome what was done, or why nothing was
 * @param detail one sentence for an operator, empty when the outcome says it all
 */
public record BlockerReport(Blocker blocker, String blockedWork, BlockerOutcome outcome, String detail) {
}
