package io.pgmigrate.liquibase;

import static io.pgmigrate.liquibase.Liquibases.ADD_NOTE;
import static io.pgmigrate.liquibase.Liquibases.ORDERS;
import static io.pgmigrate.liquibase.Liquibases.createOrders;
import static io.pgmigrate.liquibase.Liquibases.hasNote;
import static io.pgmigrate.liquibase.Liquibases.liquibase;
import static io.pgmigrate.liquibase.Liquibases.reader;
import static io.pgmigrate.liquibase.Liquibases.settings;
import static org.assertj.core.api.Assertions.assertThat;

import ch.qos.logback.classic.Level;
import io.pgmigrate.core.BlockerOutcome;
import io.pgmigrate.core.StandardBlockingAction;
import io.pgmigrate.flyway.LogCapture;
import io.pgmigrate.flyway.RecordingGuardListener;
import io.pgmigrate.testsupport.PostgresTest;
import io.pgmigrate.testsupport.TestDatabase;
import io.pgmigrate.testsupport.TestSession;
import liquibase.Liquibase;
import org.junit.jupiter.api.Test;

/** A changeset blocked by a session idle in transaction: the session is terminated, the changeset applied. */
@PostgresTest
class ChangeSetRescueTest {

    @Test
    void terminatesTheSessionThatBlocksAChangeSetAndNamesTheChangeSet(TestDatabase db) throws Exception {
        createOrders(db);
        TestSession blocker = reader(db);
        RecordingGuardListener events = new RecordingGuardListener();
        Liquibases.UserListener users = new Liquibases.UserListener();
        LiquibaseGuard guard = new LiquibaseGuard(settings(), StandardBlockingAction.TERMINATE, events);

        try (LogCapture log = new LogCapture()) {
            guard.update(db.dataSource(), (connection) -> {
                Liquibase liquibase = liquibase(ORDERS, connection);
                liquibase.setChangeExecListener(users);
                return liquibase;
            });
            assertThat(log.at(Level.WARN, "pgmigrate: Terminated a session blocking")).singleElement()
                .satisfies((line) -> assertThat(line.getFormattedMessage()).contains("changeset " + ADD_NOTE));
        }

        assertThat(blocker.isAlive()).isFalse();
        assertThat(hasNote(db)).isTrue();
        assertThat(events.reports).singleElement().satisfies((report) -> {
            assertThat(report.blocker().pid()).isEqualTo(blocker.pid());
            assertThat(report.outcome()).isEqualTo(BlockerOutcome.TERMINATED);
        });
        assertThat(events.runs).singleElement().satisfies((run) -> {
            assertThat(run.success()).isTrue();
            assertThat(run.migrationsApplied()).isEqualTo(2);
            assertThat(run.migrations()).containsExactly("1-create-customers::orders-team (" + ORDERS + ")", ADD_NOTE);
        });
        // the application's own listener still saw every changeset
        assertThat(users.ran).containsExactly("1-create-customers", "2-add-note");
        // Liquibase's connection was given back as it was: nothing of pgmigrate is left in a session
        assertThat(db.pidsOf(LiquibaseGuard.APPLICATION_NAME)).isEmpty();
    }
}
