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
/** A transactional changeset blocked on every attempt fails with the blockers it saw. */
@PostgresTest
class ChangeSetRetriesExhaustedTest {

    @Test
    void failsWithTheBlockersOnceTheRetriesOfATransactionalChangeSetAreUsedUp(TestDatabase db) throws Exception {
        createOrders(db);
        TestSession blocker = reader(db);
        LiquibaseGuard guard = new LiquibaseGuard(settings().withLockTimeout(Duration.ofSeconds(1))
            .withLockRetries(1)
            .withLockRetryDelay(Duration.ofMillis(50)), StandardBlockingAction.SHOW, new RecordingGuardListener());

        ChangeSetLockTimeoutException failure = catchThrowableOfType(ChangeSetLockTimeoutException.class,
                () -> guard.update(db.dataSource(), (connection) -> liquibase(ORDERS, connection)));

        assertThat(failure).isNotNull();
        assertThat(failure.changeSet()).isEqualTo(ADD_NOTE);
        assertThat(failure.transactional()).isTrue();
        assertThat(failure.attempts()).isEqualTo(2);
        assertThat(failure.blockers()).extracting((b) -> b.pid()).containsExactly(blocker.pid());
        assertThat(failure.getMessage()).contains("changeset " + ADD_NOTE, "lock_timeout=1s", "attempts=2",
                "pid=" + blocker.pid(), "nothing of it is left");
        assertThat(hasNote(db)).isFalse();
        assertThat(db.queryValue("SELECT count(*) FROM databasechangelog WHERE id = '2-add-note'")).isEqualTo(0L);
    }
}
