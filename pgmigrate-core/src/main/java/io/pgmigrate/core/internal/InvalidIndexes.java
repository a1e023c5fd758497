package io.pgmigrate.core.internal;

import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;

import javax.sql.DataSource;

/**
 * The INVALID indexes of the database. A {@code CREATE INDEX CONCURRENTLY} (or {@code REINDEX CONCURRENTLY}) that
 * fails after its first step leaves its index in the catalog, marked invalid: PostgreSQL does not use it but
 * keeps maintaining it, and the next attempt of the migration fails because the name is taken. Comparing the
 * invalid indexes before and after a failed non-transactional migration names what it left.
 */
final class InvalidIndexes {

    /*
     * pg_index.indisvalid is false for an index a concurrent build left behind, and also while one is being built;
     * pg_stat_progress_create_index (PostgreSQL 12) tells the two apart. format('%I.%I') quotes the name only
     * where SQL needs it, so it can be pasted into DROP INDEX.
     */
    private static final String SQL = """
            SELECT i.indexrelid::bigint AS oid,
                   format('%I.%I', n.nspname, c.relname) AS name,
                   EXISTS (SELECT 1 FROM pg_stat_progress_create_index p WHERE p.index_relid = i.indexrelid)
                       AS building
            FROM pg_index i
            JOIN pg_class c ON c.oid = i.indexrelid
            JOIN pg_namespace n ON n.oid = c.relnamespace
            WHERE NOT i.indisvalid
            ORDER BY 2
            """;

    /** One invalid index; {@code building} while a session builds it right now. */
    record Index(long oid, String name, boolean building) {
    }

    private InvalidIndexes() {
    }

    /** The invalid indexes now, on the given connection. */
    static List<Index> find(Connection connection) throws SQLException {
        List<Index> indexes = new ArrayList<>();
        try (Statement statement = connection.createStatement(); ResultSet rows = statement.executeQuery(SQL)) {
            while (rows.next()) {
                indexes.add(new Index(rows.getLong("oid"), rows.getString("name"), rows.getBoolean("building")));
            }
        }
        return indexes;
    }

    /** The oids of the invalid indexes now, built or being built. */
    static Set<Long> oids(Connection connection) throws SQLException {
        Set<Long> oids = new HashSet<>();
        find(connection).forEach((index) -> oids.add(index.oid()));
        return oids;
    }

    /**
     * The invalid indexes, by qualified name, that did not exist before and that no session is building now,
     * asked on a connection of its own: what a failed migration left behind.
     */
    static List<String> leftSince(DataSource dataSource, Set<Long> before) throws SQLException {
        try (Connection connection = dataSource.getConnection()) {
            try {
                return find(connection).stream()
                    .filter((index) -> !index.building() && !before.contains(index.oid()))
                    .map(Index::name)
                    .toList();
            }
            finally {
                if (!connection.getAutoCommit()) {
                    connection.rollback();
                }
            }
        }
    }

    /** The statement that removes an invalid index without blocking writes to its table. */
    static String drop(String name) {
        return "DROP INDEX CONCURRENTLY IF EXISTS " + name + ";";
    }
}
