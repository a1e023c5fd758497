package io.pgmigrate.liquibase;

import io.pgmigrate.core.GuardListener;
import io.pgmigrate.core.StandardBlockingAction;
import org.postgresql.ds.PGSimpleDataSource;

/**
 * One application instance for {@link ConcurrentLiquibaseInstancesTest}: a JVM of its own that updates
 * {@code db/changelog/orders.yaml} under the guard, terminating blockers, then prints how it ended. Arguments: JDBC
 * URL, user, password.
 */
public final class LiquibaseInstanceChild {

    private LiquibaseInstanceChild() {
    }

    public static void main(String[] args) throws Exception {
        PGSimpleDataSource dataSource = new PGSimpleDataSource();
        dataSource.setUrl(args[0]);
        dataSource.setUser(args[1]);
        dataSource.setPassword(args[2]);
        new LiquibaseGuard(Liquibases.settings(), StandardBlockingAction.TERMINATE, new GuardListener() {
        }).update(dataSource, (connection) -> Liquibases.liquibase(Liquibases.ORDERS, connection));
        System.out.println("liquibase-instance: updated");
    }
}
