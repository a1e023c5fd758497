package io.pgmigrate.autoconfigure;

import java.util.Locale;

import io.pgmigrate.flyway.UnpinnedConnectionException;

import org.springframework.boot.diagnostics.AbstractFailureAnalyzer;
import org.springframework.boot.diagnostics.FailureAnalysis;

/**
 * Explains a start-up that failed because Flyway's connection moved from one PostgreSQL backend to another, as it
 * does behind a pooler in transaction pooling mode: the migration was not started, and the Action tells how to
 * give Flyway a connection of its own.
 */
class UnpinnedConnectionFailureAnalyzer extends AbstractFailureAnalyzer<UnpinnedConnectionException> {

    @Override
    protected FailureAnalysis analyze(Throwable rootFailure, UnpinnedConnectionException cause) {
        String description = String.format(Locale.ROOT,
                "Migration %s was not started: its connection was opened on PostgreSQL backend pid %d, but the "
                        + "migration would have run on pid %d. A connection pooler in transaction pooling mode (such "
                        + "as PgBouncer with pool_mode=transaction) hands each transaction to any server connection, "
                        + "so pgmigrate cannot watch the backend that migrates, and the lock_timeout and "
                        + "application_name it set stay on another backend. Nothing of the migration ran.",
                cause.migration(), cause.connectedPid(), cause.currentPid());
        String action = "Give Flyway a connection that stays on one backend: point spring.flyway.url (with "
                + "spring.flyway.user and spring.flyway.password) at PostgreSQL directly, or at a pooler database "
                + "in session pooling mode (PgBouncer: pool_mode=session). To migrate without pgmigrate's guard "
                + "instead, set pgmigrate.enabled=false.";
        return new FailureAnalysis(description, action, cause);
    }
}
