package io.pgmigrate.liquibase;

import java.lang.reflect.Field;
import java.sql.Connection;
import java.sql.SQLException;

import io.pgmigrate.core.internal.GuardedRun;
import liquibase.Liquibase;
import liquibase.change.Change;
import liquibase.changelog.ChangeSet;
import liquibase.changelog.DatabaseChangeLog;
import liquibase.changelog.visitor.ChangeExecListener;
import liquibase.database.Database;
import liquibase.database.DatabaseConnection;
import liquibase.database.jvm.JdbcConnection;
import liquibase.exception.PreconditionErrorException;
import liquibase.exception.PreconditionFailedException;
import liquibase.exception.UnexpectedLiquibaseException;
import liquibase.precondition.core.PreconditionContainer;

import org.jspecify.annotations.Nullable;

/**
 * Tells the run which changeset runs on which connection, then passes every event on to the listener that was set
 * on the Liquibase before (an application's own, set by hand or by a {@code Customizer<Liquibase>}).
 * <p>
 * How Liquibase 4 runs a changeset, which this relies on: {@code willRun(ChangeSet, ...)} comes on the connection of
 * the update, before the changeset switches the connection's autocommit mode ({@code runInTransaction="false"}) and
 * before its first statement; then {@code ran} or {@code runFailed}. A changeset that runs in a transaction is
 * rolled back whole by Liquibase when it fails. A Liquibase has one listener slot and no getter for it, so the one
 * already set is read from its field.
 */
final class ChangeSetListener implements ChangeExecListener {

    /** What reports call a Liquibase step: {@code changeset 2-add-note::orders-team (db/changelog/orders.yaml)}. */
    static final String KIND = "changeset";

    private final GuardedRun run;

    private final @Nullable ChangeExecListener next;

    ChangeSetListener(GuardedRun run, @Nullable ChangeExecListener next) {
        this.run = run;
        this.next = next;
    }

    /** Sets this run's listener on the Liquibase, in front of the listener it had. */
    static void install(Liquibase liquibase, GuardedRun run) {
        liquibase.setChangeExecListener(new ChangeSetListener(run, listenerOf(liquibase)));
    }

    private static @Nullable ChangeExecListener listenerOf(Liquibase liquibase) {
        try {
            Field field = Liquibase.class.getDeclaredField("changeExecListener");
            field.setAccessible(true);
            return (ChangeExecListener) field.get(liquibase);
        }
        catch (ReflectiveOperationException | RuntimeException ex) {
            // refusing is better than dropping the application's listener without a word
            throw new UnexpectedLiquibaseException("pgmigrate cannot read the ChangeExecListener already set on this "
                    + "Liquibase, so it would replace it; this Liquibase version is not supported (use 4.x)", ex);
        }
    }

    /** {@code 2-add-note::orders-team (db/changelog/orders.yaml)}: id, author and file, as Liquibase identifies it. */
    static String name(ChangeSet changeSet) {
        return changeSet.getId() + "::" + changeSet.getAuthor() + " (" + changeSet.getFilePath() + ")";
    }

    @Override
    public void willRun(ChangeSet changeSet, DatabaseChangeLog databaseChangeLog, Database database,
            ChangeSet.RunStatus runStatus) {
        Connection connection = jdbc(database);
        if (connection != null) {
            String name = name(changeSet);
            try {
                run.migrationStarting(connection, KIND, name, changeSet.isRunInTransaction(),
                        (connected, now) -> new UnpinnedChangeSetConnectionException(name, connected, now));
            }
            catch (SQLException ex) {
                throw new UnexpectedLiquibaseException("pgmigrate could not register changeset " + name
                        + " with its watcher", ex);
            }
        }
        if (next != null) {
            next.willRun(changeSet, databaseChangeLog, database, runStatus);
        }
    }

    @Override
    public void ran(ChangeSet changeSet, DatabaseChangeLog databaseChangeLog, Database database,
            ChangeSet.ExecType execType) {
        run.migrationEnded(execType != ChangeSet.ExecType.FAILED);
        if (next != null) {
            next.ran(changeSet, databaseChangeLog, database, execType);
        }
    }

    @Override
    public void runFailed(ChangeSet changeSet, DatabaseChangeLog databaseChangeLog, Database database,
            Exception exception) {
        run.migrationEnded(false);
        if (next != null) {
            next.runFailed(changeSet, databaseChangeLog, database, exception);
        }
    }

    @Override
    public void willRollback(ChangeSet changeSet, DatabaseChangeLog databaseChangeLog, Database database) {
        if (next != null) {
            next.willRollback(changeSet, databaseChangeLog, database);
        }
    }

    @Override
    public void rolledBack(ChangeSet changeSet, DatabaseChangeLog databaseChangeLog, Database database) {
        if (next != null) {
            next.rolledBack(changeSet, databaseChangeLog, database);
        }
    }

    @Override
    public void preconditionFailed(PreconditionFailedException error, PreconditionContainer.FailOption onFail) {
        if (next != null) {
            next.preconditionFailed(error, onFail);
        }
    }

    @Override
    public void preconditionErrored(PreconditionErrorException error, PreconditionContainer.ErrorOption onError) {
        if (next != null) {
            next.preconditionErrored(error, onError);
        }
    }

    @Override
    public void willRun(Change change, ChangeSet changeSet, DatabaseChangeLog changeLog, Database database) {
        if (next != null) {
            next.willRun(change, changeSet, changeLog, database);
        }
    }

    @Override
    public void ran(Change change, ChangeSet changeSet, DatabaseChangeLog changeLog, Database database) {
        if (next != null) {
            next.ran(change, changeSet, changeLog, database);
        }
    }

    @Override
    public void rollbackFailed(ChangeSet changeSet, DatabaseChangeLog databaseChangeLog, Database database,
            Exception exception) {
        if (next != null) {
            next.rollbackFailed(changeSet, databaseChangeLog, database, exception);
        }
    }

    /** The JDBC connection of an online database; {@code null} for an offline one, which runs no SQL. */
    private static @Nullable Connection jdbc(Database database) {
        DatabaseConnection connection = database.getConnection();
        return connection instanceof JdbcConnection jdbc ? jdbc.getUnderlyingConnection() : null;
    }
}
