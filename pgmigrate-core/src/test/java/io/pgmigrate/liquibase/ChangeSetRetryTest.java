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
/** A transactional changeset that hit the lock timeout is rolled back by PostgreSQL and tried again. */
@PostgresTest
class ChangeSetRetryTest {

    @Test
    void retriesATransactionalChangeSetThatHitTheLockTimeout(TestDatabase db) throws Exception {
        createOrders(db);
        TestSession blocker = reader(db);
        RecordingGuardListener events = RecordingGuardListener.endingAtLockTimeout(blocker);
        LiquibaseGuard guard = new LiquibaseGuard(settings().withLockTimeout(Duration.ofMillis(1500))
            .withLockRetries(2)
            .withLockRetryDelay(Duration.ofMillis(100)), StandardBlockingAction.SHOW, events);

        try (LogCapture log = new LogCapture()) {
            guard.update(db.dataSource(), (connection) -> liquibase(ORDERS, connection));
            assertThat(log.at(Level.WARN, "pgmigrate: changeset hit the lock timeout and was rolled back; retrying"))
                .singleElement()
                .satisfies((line) -> assertThat(LogCapture.keyValues(line)).containsEntry("changeset", ADD_NOTE)
                    .containsEntry("attempt", 1));
        }

        assertThat(hasNote(db)).isTrue();
        assertThat(blocker.isAlive()).isTrue();
        assertThat(events.lockTimeouts).singleElement().satisfies((event) -> {
            assertThat(event.migration()).isEqualTo(ADD_NOTE);
            assertThat(event.retried()).isTrue();
            assertThat(event.blockersSeen()).extracting((b) -> b.pid()).containsExactly(blocker.pid());
        });
        assertThat(db.queryValue("SELECT count(*) FROM databasechangelog WHERE id = '2-add-note'")).isEqualTo(1L);
    }
}
