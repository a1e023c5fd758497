package io.pgmigrate.flyway;

import static io.pgmigrate.flyway.Guarding.createOrders;
import static io.pgmigrate.flyway.Guarding.flyway;
import static io.pgmigrate.flyway.Guarding.settings;
import static io.pgmigrate.flyway.Guarding.withoutTransactionalLock;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowableOfType;

import java.time.Duration;

import io.pgmigrate.core.StandardBlockingAction;
import io.pgmigrate.testsupport.PostgresTest;
import io.pgmigrate.testsupport.TestDatabase;
import io.pgmigrate.testsupport.TestSession;
import org.flywaydb.core.Flyway;
import org.flywaydb.database.postgresql.PostgreSQLConfigurationExtension;
import org.junit.jupiter.api.Test;

@PostgresTest
class NonTransactionalLockTimeoutTest {

    @Test
    void aConcurrentIndexBuildThatHitsTheLockTimeoutIsNotRetriedAndTheErrorSaysWhy(TestDatabase db) throws Exception {
        createOrders(db);
        // SHARE conflicts with the SHARE UPDATE EXCLUSIVE lock CREATE INDEX CONCURRENTLY takes first
        TestSession blocker = db.session("report").begin().execute("LOCK TABLE orders IN SHARE MODE");
        RecordingGuardListener events = new RecordingGuardListener();
        FlywayGuard guard = new FlywayGuard(settings().withLockTimeout(Duration.ofSeconds(1)).withLockRetries(2)
            .withLockRetryDelay(Duration.ofMillis(50)), StandardBlockingAction.SHOW, events);
        CountingDataSource dataSource = new CountingDataSource(db.dataSource());
        Flyway flyway = withoutTransactionalLock(flyway(dataSource, "concurrently"))
            .load();
        assertThat(flyway.getConfigurationExtension(PostgreSQLConfigurationExtension.class).isTransactionalLock())
            .isFalse();

        NonTransactionalLockTimeoutException failure = catchThrowableOfType(
                NonTransactionalLockTimeoutException.class, () -> guard.migrate(flyway));

        assertThat(failure).isNotNull();
        assertThat(failure.migration()).isEqualTo("1 (index orders)");
        assertThat(failure.getMessage()).contains("migration 1 (index orders)", "is not retried",
                "does not run in a transaction", "partial work", "failed in the schema history", "attempts=1",
                "lock_timeout=1s", "pid=" + blocker.pid(), "flyway repair");
        System.out.println("pgmigrate measured: non-transactional message:\n" + failure.getMessage());
        // the copy kept transactional.lock=false: the index build waited for the blocker only
        assertThat(failure.getMessage()).doesNotContain("same Flyway run");
        assertThat(failure.blockers()).extracting((b) -> b.pid()).containsExactly(blocker.pid());
        // the build waited for its first lock on the table, before PostgreSQL created the index: nothing to drop
        assertThat(failure.selfBlocked()).isFalse();
        assertThat(failure.invalidIndexes()).isEmpty();
        assertThat(failure.getMessage()).contains("It left no INVALID index.");
        // without the transactional lock Flyway 12.4 uses one connection; the watcher has its own, and the guard
        // one more after the failure, to look for INVALID indexes
        System.out.println("pgmigrate measured: connections opened, transactional.lock=false: " + dataSource.opened);
        assertThat(dataSource.opened.get()).isEqualTo(3);
        assertThat(dataSource.open.get()).isZero();
        assertThat(events.started).hasSize(1);
        assertThat(events.lockTimeouts).singleElement().satisfies((event) -> {
            assertThat(event.attempt()).isEqualTo(1);
            assertThat(event.retried()).isFalse();
        });
        assertThat(blocker.isAlive()).isTrue();
        assertThat(db.queryValue("SELECT count(*) FROM flyway_schema_history WHERE version = '1' AND NOT success"))
            .isEqualTo(1L);
        assertThat(Guarding.watcherThreadAlive()).isFalse();
    }
}
