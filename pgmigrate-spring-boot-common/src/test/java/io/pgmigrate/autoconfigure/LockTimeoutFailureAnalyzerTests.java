package io.pgmigrate.autoconfigure;

import io.pgmigrate.autoconfigure.metrics.PgMigrateMetricsTests;
import java.time.Duration;
import java.util.List;

import io.pgmigrate.flyway.LockTimeoutExhaustedException;
import org.junit.jupiter.api.Test;

import org.springframework.beans.factory.BeanCreationException;
import org.springframework.boot.diagnostics.FailureAnalysis;
import org.springframework.mock.env.MockEnvironment;

import static org.assertj.core.api.Assertions.assertThat;

/** What the console shows when the start-up failed because a migration never got its locks. */
class LockTimeoutFailureAnalyzerTests {

    private final LockTimeoutExhaustedException exhausted = new LockTimeoutExhaustedException("2 (add email)",
            Duration.ofSeconds(2), 3, List.of(PgMigrateMetricsTests.blocker()), new RuntimeException("55P03"));

    @Test
    void describesTheMigrationTheTimeoutTheAttemptsAndEachBlocker() {
        FailureAnalysis analysis = analyze(new MockEnvironment());
        assertThat(analysis.getDescription())
            .contains("Migration 2 (add email) could not get its locks: it hit the lock timeout of 2s on each of its 3 "
                    + "attempts.")
            .contains("pid 4242, user app, application reporting, client 10.0.0.7, state idle in transaction, "
                    + "holding locks for 30s, holds AccessShareLock on public.accounts, query SELECT * FROM accounts");
        assertThat(analysis.getCause()).isSameAs(this.exhausted);
    }

    @Test
    void withTerminateItPointsAtPrivilegesAndExclusions() {
        FailureAnalysis analysis = analyze(new MockEnvironment());
        assertThat(analysis.getAction()).contains("pgmigrate.blocking-action is 'terminate'")
            .contains("pg_signal_backend")
            .contains("pgmigrate.exclude-users")
            .contains("SELECT pg_terminate_backend(4242)");
    }

    @Test
    void withShowItSuggestsTerminate() {
        FailureAnalysis analysis = analyze(new MockEnvironment().withProperty("pgmigrate.blocking-action", "show")
            .withProperty("pgmigrate.lock-retries", "2"));
        assertThat(analysis.getAction()).contains("pgmigrate.blocking-action is 'show', so pgmigrate left the blockers "
                + "alone. Set it to 'terminate'")
            .contains("pgmigrate.lock-retries (now 2)");
    }

    @Test
    void aBlockingActionBeanThatTerminatesIsNotSuggestedAgain() {
        // the property says show, but a BlockingAction bean that terminates was in use
        LockTimeoutExhaustedException terminated = new LockTimeoutExhaustedException("2 (add email)",
                Duration.ofSeconds(2), 3, List.of(PgMigrateMetricsTests.blocker()), false, "terminate",
                new RuntimeException("55P03"));
        FailureAnalysis analysis = new LockTimeoutFailureAnalyzer(new MockEnvironment()
            .withProperty("pgmigrate.blocking-action", "show")).analyze(terminated);
        assertThat(analysis.getAction()).contains("The blocking action in use was 'terminate'")
            .contains("pg_signal_backend")
            .doesNotContain("Set it to 'terminate'");
        assertThat(terminated.getMessage()).contains("The blocking action was already terminate")
            .doesNotContain("use blocking-action=terminate");
    }

    @Test
    void aMigrationThatWaitedForAConnectionOfItsOwnRunGetsThatFixAndNoOtherAdvice() {
        LockTimeoutExhaustedException deadlocked = new LockTimeoutExhaustedException("2 (add note)",
                Duration.ofSeconds(2), 1, List.of(PgMigrateMetricsTests.blocker()), true, "terminate",
                new RuntimeException("55P03"));
        FailureAnalysis analysis = new LockTimeoutFailureAnalyzer(new MockEnvironment()).analyze(deadlocked);
        assertThat(analysis.getDescription()).contains("on its only attempt")
            .contains("It waited for another connection of its own run")
            .contains("so it was not retried");
        assertThat(analysis.getAction()).contains("Context.getConnection()")
            .doesNotContain("terminate")
            .doesNotContain("transactional-lock")
            .doesNotContain("lock-retries");
    }

    @Test
    void aNonTransactionalMigrationThatWaitedForAConnectionOfItsOwnRunGetsNoTransactionalLockAdvice() {
        FailureAnalysis analysis = new NonTransactionalLockTimeoutFailureAnalyzer()
            .analyze(new io.pgmigrate.flyway.NonTransactionalLockTimeoutException("3 (index accounts)",
                    Duration.ofSeconds(2), List.of(PgMigrateMetricsTests.blocker()), false, true, List.of(), null));
        assertThat(analysis.getDescription()).contains("It waited for another connection of its own run");
        assertThat(analysis.getAction()).startsWith("Run the migration's statements on the connection Flyway gives it")
            .doesNotContain("transactional-lock")
            .contains("repair");
    }

    @Test
    void explainsACallbackThatHitTheTimeout() {
        io.pgmigrate.flyway.CallbackLockTimeoutException failure = new io.pgmigrate.flyway.CallbackLockTimeoutException(
                "afterMigrate", Duration.ofSeconds(2), List.of(PgMigrateMetricsTests.blocker()), 1, false, "terminate",
                new RuntimeException("55P03"));
        FailureAnalysis analysis = new CallbackLockTimeoutFailureAnalyzer()
            .analyze(new BeanCreationException("flywayInitializer", "Invocation of init method failed", failure));
        assertThat(analysis.getDescription())
            .contains("Flyway's afterMigrate callback hit the lock timeout of 2s and was not retried")
            .contains("The migrations applied before it stay applied (1 in this run)")
            .contains("pid 4242");
        assertThat(analysis.getAction()).contains("pgmigrate already terminates blockers")
            .contains("Flyway runs afterMigrate callbacks on every migrate")
            .doesNotContain("set pgmigrate.blocking-action");
        assertThat(analysis.getCause()).isSameAs(failure);
    }

    @Test
    void saysSoWhenNoBlockerWasSeen() {
        FailureAnalysis analysis = new LockTimeoutFailureAnalyzer(new MockEnvironment())
            .analyze(new LockTimeoutExhaustedException("2 (add email)", Duration.ofMillis(1500), 1, List.of(), null));
        assertThat(analysis.getDescription()).contains("lock timeout of 1.5s on its only attempt")
            .contains("No blocking session was seen");
    }

    private FailureAnalysis analyze(MockEnvironment environment) {
        return new LockTimeoutFailureAnalyzer(environment)
            .analyze(new BeanCreationException("flywayInitializer", "Invocation of init method failed", this.exhausted));
    }

    @Test
    void explainsANonTransactionalMigrationThatHitTheTimeout() {
        FailureAnalysis analysis = new NonTransactionalLockTimeoutFailureAnalyzer()
            .analyze(new BeanCreationException("flywayInitializer", "Invocation of init method failed",
                    new io.pgmigrate.flyway.NonTransactionalLockTimeoutException("3 (index accounts)",
                            Duration.ofSeconds(2), List.of(PgMigrateMetricsTests.blocker()), false, null)));
        assertThat(analysis.getDescription()).contains("Migration 3 (index accounts) does not run in a transaction")
            .contains("lock timeout of 2s")
            .contains("pid 4242");
        assertThat(analysis.getAction()).contains("repair").contains("spring.flyway.postgresql.transactional-lock");
    }

    @Test
    void aMigrationThatWaitedForFlywaysOwnConnectionGetsTheFixAndTheIndexToDrop() {
        FailureAnalysis analysis = new NonTransactionalLockTimeoutFailureAnalyzer()
            .analyze(new BeanCreationException("flywayInitializer", "Invocation of init method failed",
                    new io.pgmigrate.flyway.NonTransactionalLockTimeoutException("3 (index accounts)",
                            Duration.ofSeconds(2), List.of(PgMigrateMetricsTests.blocker()), true,
                            List.of("public.accounts_email_idx"), null)));
        assertThat(analysis.getDescription()).contains("Migration 3 (index accounts) does not run in a transaction")
            .contains("It waited for Flyway's own connection, which pgmigrate never ends")
            .contains("INVALID indexes it left: public.accounts_email_idx");
        assertThat(analysis.getAction()).startsWith("Set spring.flyway.postgresql.transactional-lock=false")
            .contains("(plain Flyway: flyway.postgresql.transactional.lock=false)")
            .contains("Drop the INVALID index it left:")
            .contains("DROP INDEX CONCURRENTLY IF EXISTS public.accounts_email_idx;")
            .contains("repair");
    }

    @Test
    void everyAnalyzerIsRegistered() throws java.io.IOException {
        java.util.List<String> registered = new java.util.ArrayList<>();
        for (java.net.URL url : java.util.Collections.list(getClass().getClassLoader()
            .getResources("META-INF/spring.factories"))) {
            String names = org.springframework.core.io.support.PropertiesLoaderUtils
                .loadProperties(new org.springframework.core.io.UrlResource(url))
                .getProperty("org.springframework.boot.diagnostics.FailureAnalyzer", "");
            registered.addAll(java.util.Arrays.asList(names.split("\\s*,\\s*")));
        }
        assertThat(registered).contains(LockTimeoutFailureAnalyzer.class.getName(),
                NonTransactionalLockTimeoutFailureAnalyzer.class.getName(),
                CallbackLockTimeoutFailureAnalyzer.class.getName());
    }
}
