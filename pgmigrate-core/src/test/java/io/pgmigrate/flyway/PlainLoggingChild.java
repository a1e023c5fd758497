package io.pgmigrate.flyway;

import io.pgmigrate.core.GuardListener;
import io.pgmigrate.core.StandardBlockingAction;
import org.postgresql.ds.PGSimpleDataSource;

/**
 * The JVM that {@link PlainLoggingTest} starts with {@code slf4j-simple} as its only SLF4J binding: a guarded
 * migration of {@code orders} (location {@code db/blocked}) that terminates its blocker. Arguments: JDBC URL, user,
 * password.
 */
public final class PlainLoggingChild {

    private PlainLoggingChild() {
    }

    public static void main(String[] args) {
        PGSimpleDataSource dataSource = new PGSimpleDataSource();
        dataSource.setUrl(args[0]);
        dataSource.setUser(args[1]);
        dataSource.setPassword(args[2]);
        new FlywayGuard(Guarding.settings(), StandardBlockingAction.TERMINATE, new GuardListener() {
        }).migrate(Guarding.flyway(dataSource, "blocked").load());
    }
}
