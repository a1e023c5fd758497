package io.pgmigrate.core;

import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * PostgreSQL settings applied to one connection for a while and then put back as they were, so a pooled
 * connection returns to its pool unchanged. Values are sent as parameters of {@code set_config()}, never
 * spliced into SQL.
 */
public final class SessionSettings {

    private final Connection connection;
    private final Map<String, String> originals;

    private SessionSettings(Connection connection, Map<String, String> originals) {
        this.connection = connection;
        this.originals = originals;
    }

    /**
     * Applies the settings at session level (they outlive the current transaction) and remembers the
     * values they replace.
     */
    public static SessionSettings apply(Connection connection, Map<String, String> settings) throws SQLException {
        Map<String, String> originals = new LinkedHashMap<>();
        try (PreparedStatement read = connection.prepareStatement("SELECT current_setting(?)");
                PreparedStatement write = connection.prepareStatement("SELECT set_config(?, ?, false)")) {
            for (Map.Entry<String, String> setting : settings.entrySet()) {
                read.setString(1, setting.getKey());
                try (ResultSet rows = read.executeQuery()) {
                    rows.next();
                    originals.put(setting.getKey(), rows.getString(1));
                }
                write.setString(1, setting.getKey());
                write.setString(2, setting.getValue());
                write.executeQuery().close();
            }
        }
        return new SessionSettings(connection, originals);
    }

    /** The values the settings had before {@link #apply}. */
    public Map<String, String> originals() {
        return Map.copyOf(originals);
    }

    /**
     * Puts the settings back. Outside a transaction this takes effect at once; inside one, it is part of
     * that transaction.
     */
    public void restore() throws SQLException {
        try (PreparedStatement write = connection.prepareStatement("SELECT set_config(?, ?, false)")) {
            for (Map.Entry<String, String> setting : originals.entrySet()) {
                write.setString(1, setting.getKey());
                write.setString(2, setting.getValue());
                write.executeQuery().close();
            }
        }
    }
}
