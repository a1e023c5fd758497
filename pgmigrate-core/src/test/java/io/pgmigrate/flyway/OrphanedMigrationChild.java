package io.pgmigrate.flyway;

import io.pgmigrate.core.GuardSettings;
import io.pgmigrate.core.GuardListener;
import java.time.Duration;

import io.pgmigrate.core.StandardBlockingAction;
import org.postgresql.ds.PGSimpleDataSource;

/**
 * The JVM that {@link OrphanedWaitTest} kills: it runs a guarded migration of {@code orders} (location
 * {@code db/orphaned}) that waits behind a blocker the guard leaves alone (blocking action {@code none}, and no
 * bound on the application's stall, so nothing but the kill ends the wait). Arguments: JDBC URL, user, password.
 */
public final class OrphanedMigrationChild {

    private OrphanedMigrationChild() {
    }

    public static void main(String[] args) {
        PGSimpleDataSource dataSource = new PGSimpleDataSource();
        dataSource.setUrl(args[0]);
        dataSource.setUser(args[1]);
        dataSource.setPassword(args[2]);
        GuardSettings settings = Guarding.settings();
        settings = settings.withWatch(settings.watch().withMaxApplicationStall(Duration.ZERO));
        new FlywayGuard(settings, StandardBlockingAction.NONE, new GuardListener() {
        }).migrate(Guarding.flyway(dataSource, "orphaned").table("history_orphaned").load());
        System.out.println("orphaned-child: the migration finished; it should have been killed while it waited");
    }
}
