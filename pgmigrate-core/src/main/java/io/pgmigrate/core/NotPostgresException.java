package io.pgmigrate.core;

/**
 * The watcher's connection is not to PostgreSQL (H2 in an application's tests, for example), so there is nothing to
 * watch: thrown when the watcher starts, which then has closed that connection and started nothing. An adapter
 * steps aside and lets the migration run as it would without pgmigrate. Detected from the JDBC driver's product
 * name on the connection the watcher opens anyway, so telling costs no connection of its own.
 */
public final class NotPostgresException extends RuntimeException {

    private static final long serialVersionUID = 1L;

    private final String product;

    public NotPostgresException(String product) {
        super("pgmigrate: the database is not PostgreSQL: database=" + product);
        this.product = product;
    }

    /** The database's product name, as its JDBC driver gives it, for example {@code H2}. */
    public String product() {
        return product;
    }
}
