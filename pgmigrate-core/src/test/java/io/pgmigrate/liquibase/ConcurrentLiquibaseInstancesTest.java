package io.pgmigrate.liquibase;

import static io.pgmigrate.liquibase.Liquibases.*;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowableOfType;
import static org.awaitility.Awaitility.await;

import java.sql.SQLException;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;

import javax.sql.DataSource;

import ch.qos.logback.classic.Level;
import io.pgmigrate.core.BlockerOutcome;
import io.pgmigrate.core.GuardSettings;
import io.pgmigrate.core.StandardBlockingAction;
import io.pgmigrate.flyway.LogCapture;
import io.pgmigrate.flyway.RecordingGuardListener;
import io.pgmigrate.testsupport.PostgresTest;
import io.pgmigrate.testsupport.TestDatabase;
import io.pgmigrate.testsupport.TestSession;
import liquibase.Contexts;
import liquibase.LabelExpression;
import liquibase.Liquibase;
import liquibase.changelog.ChangeSet;
import liquibase.changelog.DatabaseChangeLog;
import liquibase.changelog.visitor.AbstractChangeExecListener;
import liquibase.database.Database;
import liquibase.database.jvm.JdbcConnection;
import liquibase.exception.LiquibaseException;
import liquibase.resource.ClassLoaderResourceAccessor;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * A plain Liquibase update under the guard, on real PostgreSQL: the table {@code orders} exists, a session sits idle
 * in a transaction that read it, and changeset {@code 2-add-note} alters it.
 */
/** Two instances update the same database at once. */
@PostgresTest
class ConcurrentLiquibaseInstancesTest {

    @Test
    void twoInstancesStartingAtOnceBothFinishAndEndOnlyTheBlocker(TestDatabase db) throws Exception {
        createOrders(db);
        // Liquibase's own tables exist, as on any database it updated before
        try (Liquibase first = liquibase(ORDERS, db.dataSource().getConnection())) {
            first.update(1, new Contexts(), new LabelExpression());
        }
        TestSession blocker = reader(db);
        RecordingGuardListener eventsA = new RecordingGuardListener();
        RecordingGuardListener eventsB = new RecordingGuardListener();

        CompletableFuture<Void> a = CompletableFuture.runAsync(() -> update(db.dataSource(), eventsA));
        CompletableFuture<Void> b = CompletableFuture.runAsync(() -> update(db.dataSource(), eventsB));
        CompletableFuture.allOf(a, b).get(DEADLINE.toSeconds(), TimeUnit.SECONDS);

        assertThat(hasNote(db)).isTrue();
        assertThat(blocker.isAlive()).isFalse();
        assertThat(db.queryValue("SELECT count(*) FROM databasechangelog WHERE id = '2-add-note'")).isEqualTo(1L);
        // one instance ran the changeset and ended the reader; the other found it applied; neither ended the other
        List<RecordingGuardListener> both = List.of(eventsA, eventsB);
        assertThat(both.stream().flatMap((events) -> events.reports.stream()))
            .allSatisfy((report) -> assertThat(report.blocker().pid()).isEqualTo(blocker.pid()));
        assertThat(both).allSatisfy((events) -> assertThat(events.runs).singleElement()
            .satisfies((run) -> assertThat(run.success()).isTrue()));
        assertThat(both.stream().mapToInt((events) -> events.runs.get(0).migrationsApplied()).sum()).isEqualTo(1);
        assertThat(db.queryValue("SELECT locked FROM databasechangeloglock WHERE id = 1")).isEqualTo(false);
    }

    private static void update(DataSource dataSource, RecordingGuardListener events) {
        try {
            new LiquibaseGuard(settings(), StandardBlockingAction.TERMINATE, events).update(dataSource,
                    (connection) -> liquibase(ORDERS, connection));
        }
        catch (LiquibaseException ex) {
            throw new IllegalStateException(ex);
        }
    }
}
