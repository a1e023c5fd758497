/**
 * The engine and the tool-neutral guarded run that pgmigrate's adapters are built from: the watcher and its
 * queries, the screening rules and the signal statement, the guarded DataSource, the retry policy, the fan-out of
 * events and the one way a blocker is written. Not API: public only so that the adapters' packages can reach it,
 * and it may change in any release. Applications use {@code io.pgmigrate.core} and an adapter.
 */
package io.pgmigrate.core.internal;
