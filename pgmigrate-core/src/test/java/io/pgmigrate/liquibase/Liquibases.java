package io.pgmigrate.liquibase;

import static org.awaitility.Awaitility.await;

import java.sql.SQLException;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;

import io.pgmigrate.core.GuardSettings;
import io.pgmigrate.testsupport.TestDatabase;
import io.pgmigrate.testsupport.TestSession;
import liquibase.Liquibase;
import liquibase.changelog.ChangeSet;
import liquibase.changelog.DatabaseChangeLog;
import liquibase.changelog.visitor.AbstractChangeExecListener;
import liquibase.database.Database;
import liquibase.database.jvm.JdbcConnection;
import liquibase.exception.LiquibaseException;
import liquibase.resource.ClassLoaderResourceAccessor;

/** What the Liquibase tests share: the orders table, its reader, the changelogs and fast watch settings. */
final class Liquibases {

    static final String ORDERS = "db/changelog/orders.yaml";

    static final String ADD_NOTE = "2-add-note::orders-team (" + ORDERS + ")";

    static final Duration DEADLINE = Duration.ofSeconds(60);

    private Liquibases() {
    }

    /** Watch settings that react fast; the rest as a user would start. */
    static GuardSettings settings() {
        GuardSettings defaults = GuardSettings.defaults();
        return defaults.withWatch(defaults.watch().withPollInterval(Duration.ofMillis(20)));
    }

    static Liquibase liquibase(String changeLog, java.sql.Connection connection) throws LiquibaseException {
        return new Liquibase(changeLog, new ClassLoaderResourceAccessor(), new JdbcConnection(connection));
    }

    static void createOrders(TestDatabase db) throws SQLException {
        db.execute("CREATE TABLE orders (id int PRIMARY KEY, total int)",
                "INSERT INTO orders SELECT g, g * 10 FROM generate_series(1, 100) g");
    }

    /** A session idle in a transaction that has read orders: it holds ACCESS SHARE on it. */
    static TestSession reader(TestDatabase db) throws SQLException {
        TestSession reader = db.session("report").begin().execute("SELECT count(*) FROM orders");
        await().atMost(DEADLINE).until(reader::isAlive);
        return reader;
    }

    static boolean hasNote(TestDatabase db) throws SQLException {
        return Long.valueOf(1).equals(db.queryValue("SELECT count(*) FROM information_schema.columns "
                + "WHERE table_name = 'orders' AND column_name = 'note'"));
    }

    /** An application's own listener, set on the Liquibase before the guard. */
    static final class UserListener extends AbstractChangeExecListener {

        final List<String> ran = new CopyOnWriteArrayList<>();

        @Override
        public void ran(ChangeSet changeSet, DatabaseChangeLog databaseChangeLog, Database database,
                ChangeSet.ExecType execType) {
            ran.add(changeSet.getId());
        }
    }
}
