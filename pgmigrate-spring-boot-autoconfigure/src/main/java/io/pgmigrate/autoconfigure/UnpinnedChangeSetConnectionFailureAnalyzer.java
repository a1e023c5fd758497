package io.pgmigrate.autoconfigure;

import java.util.Locale;

import io.pgmigrate.liquibase.UnpinnedChangeSetConnectionException;

import org.springframework.boot.diagnostics.AbstractFailureAnalyzer;
import org.springframework.boot.diagnostics.FailureAnalysis;

/**
 * Explains a start-up that failed because Liquibase's connection moved from one PostgreSQL backend to another, as it
 * does behind a pooler in transaction pooling mode: the changeset was not started, and the Action tells how to give
 * Liquibase a connection of its own.
 */
class UnpinnedChangeSetConnectionFailureAnalyzer extends AbstractFailureAnalyzer<UnpinnedChangeSetConnectionException> {

    @Override
    protected FailureAnalysis analyze(Throwable rootFailure, UnpinnedChangeSetConnectionException cause) {
        String description = String.format(Locale.ROOT,
                "Changeset %s was not started: Liquibase's connection was prepared on PostgreSQL backend pid %d, but "
                        + "the changeset would have run on pid %d. A connection pooler in transaction pooling mode "
                        + "(such as PgBouncer with pool_mode=transaction) hands each transaction to any server "
                        + "connection, so pgmigrate cannot watch the backend that updates, and the lock_timeout and "
                        + "application_name it set stay on another backend. Nothing of the changeset ran.",
                cause.changeSet(), cause.preparedPid(), cause.pid());
        String action = "Give Liquibase a connection that stays on one backend: point spring.liquibase.url (with "
                + "spring.liquibase.user and spring.liquibase.password) at PostgreSQL directly, or at a pooler "
                + "database in session pooling mode (PgBouncer: pool_mode=session). To update without pgmigrate's "
                + "guard instead, set pgmigrate.enabled=false.";
        return new FailureAnalysis(description, action, cause);
    }
}
