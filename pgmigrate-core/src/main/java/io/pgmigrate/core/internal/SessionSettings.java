package io.pgmigrate.core.internal;

import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Set;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * PostgreSQL settings applied to one connection for a while and then put back as they were, so a pooled
 * connection returns to its pool unchanged. Values are sent as parameters of {@code set_config()}, never
 * spliced into SQL.
 */
final class SessionSettings {

    private static final Logger log = LoggerFactory.getLogger(SessionSettings.class);

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
        return apply(connection, settings, Set.of());
    }

    /**
     * Applies the settings at session level and remembers the values they replace, like
     * {@link #apply(Connection, Map)}; those named in {@code optional} are skipped where the server does not have
     * them (an older PostgreSQL) or refuses the value (a setting this platform does not support), and only the
     * settings actually applied are put back by {@link #restore()}. Must run outside a transaction (autocommit)
     * when {@code optional} is not empty: a refused value would abort the transaction.
     */
    public static SessionSettings apply(Connection connection, Map<String, String> settings, Set<String> optional)
            throws SQLException {
        Map<String, String> originals = new LinkedHashMap<>();
        try (PreparedStatement read = connection.prepareStatement("SELECT current_setting(?, ?)");
                PreparedStatement write = connection.prepareStatement("SELECT set_config(?, ?, false)")) {
            for (Map.Entry<String, String> setting : settings.entrySet()) {
                boolean isOptional = optional.contains(setting.getKey());
                read.setString(1, setting.getKey());
                // missing_ok: an unknown setting reads as NULL instead of failing
                read.setBoolean(2, isOptional);
                String original;
                try (ResultSet rows = read.executeQuery()) {
                    rows.next();
                    original = rows.getString(1);
                }
                if (original == null && isOptional) {
                    log.debug("Session setting {} does not exist on this server; skipped", setting.getKey());
                    continue;
                }
                write.setString(1, setting.getKey());
                write.setString(2, setting.getValue());
                try {
                    write.executeQuery().close();
                }
                catch (SQLException ex) {
                    if (!isOptional || !connection.getAutoCommit()) {
                        throw ex;
                    }
                    log.debug("Session setting {}={} refused by this server; skipped: {}", setting.getKey(),
                            setting.getValue(), ex.getMessage());
                    continue;
                }
                originals.put(setting.getKey(), original);
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
