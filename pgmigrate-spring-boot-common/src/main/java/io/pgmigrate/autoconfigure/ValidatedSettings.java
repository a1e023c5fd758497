package io.pgmigrate.autoconfigure;

import java.util.LinkedHashSet;
import java.util.List;
import java.util.Set;
import java.util.function.Supplier;

import io.pgmigrate.core.InvalidSettingException;
import io.pgmigrate.core.StandardBlockingAction;
import io.pgmigrate.core.WatchSettings;
import io.pgmigrate.core.GuardSettings;

import org.springframework.boot.context.properties.source.InvalidConfigurationPropertyValueException;

/**
 * Maps {@link PgMigrateProperties} onto the core's settings, which check every value themselves. A value they
 * reject fails with an {@link InvalidConfigurationPropertyValueException} naming the property, which Spring Boot's
 * failure analysis shows as the property, its value, where it was set, and why it is rejected.
 */
final class ValidatedSettings {

    private static final String PREFIX = "pgmigrate.";

    private ValidatedSettings() {
    }

    static GuardSettings from(PgMigrateProperties properties) {
        // checked even when a BlockingAction bean replaces it: a wrong value is a mistake either way
        blockingAction(properties);
        return mapped(properties, () -> new GuardSettings(
                new WatchSettings(properties.getPollInterval(), properties.getMinDuration(),
                        names(properties.getExcludeApplicationNames()), names(properties.getExcludeUsers()),
                        properties.getMaxQueryLength(), properties.isActOnSnapshotWaits(),
                        properties.getMaxApplicationStall()),
                properties.getLockTimeout(), properties.getLockRetries(), properties.getLockRetryDelay()));
    }

    /** The action {@code pgmigrate.blocking-action} names, in any case. */
    static StandardBlockingAction blockingAction(PgMigrateProperties properties) {
        return mapped(properties, () -> StandardBlockingAction.fromConfigName(properties.getBlockingAction()));
    }

    private static Set<String> names(List<String> names) {
        return (names != null) ? new LinkedHashSet<>(names) : new LinkedHashSet<>();
    }

    private static <T> T mapped(PgMigrateProperties properties, Supplier<T> settings) {
        try {
            return settings.get();
        }
        catch (InvalidSettingException ex) {
            String property = PREFIX + ex.setting() + blankIndex(properties, ex.setting());
            throw new InvalidConfigurationPropertyValueException(property, ex.value(),
                    ex.reason((name) -> PREFIX + name));
        }
    }

    /** For a list of names, {@code [i]}: the index of the first blank one, as the user wrote the list. */
    private static String blankIndex(PgMigrateProperties properties, String setting) {
        List<String> names = switch (setting) {
            case "exclude-application-names" -> properties.getExcludeApplicationNames();
            case "exclude-users" -> properties.getExcludeUsers();
            default -> null;
        };
        if (names == null) {
            return "";
        }
        for (int i = 0; i < names.size(); i++) {
            if (names.get(i) == null || names.get(i).isBlank()) {
                return "[" + i + "]";
            }
        }
        return "";
    }
}
