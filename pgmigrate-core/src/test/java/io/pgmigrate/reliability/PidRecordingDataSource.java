package io.pgmigrate.reliability;

import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;

import javax.sql.DataSource;

import io.pgmigrate.testsupport.ForwardingDataSource;

/** Records the backend pid of every connection handed out: the sessions pgmigrate and Flyway used. */
final class PidRecordingDataSource extends ForwardingDataSource {

    final Set<Integer> pids = ConcurrentHashMap.newKeySet();

    PidRecordingDataSource(DataSource delegate) {
        super(delegate);
    }

    @Override
    protected Connection wrap(Connection connection) throws SQLException {
        boolean autoCommit = connection.getAutoCommit();
        try (Statement statement = connection.createStatement();
                ResultSet rows = statement.executeQuery("SELECT pg_backend_pid()")) {
            rows.next();
            pids.add(rows.getInt(1));
        }
        catch (SQLException ex) {
            connection.close();
            throw ex;
        }
        if (!autoCommit) {
            connection.rollback();
        }
        return connection;
    }
}
