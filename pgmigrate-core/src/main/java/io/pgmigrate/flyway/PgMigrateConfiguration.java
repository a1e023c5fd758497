package io.pgmigrate.flyway;

import java.time.Duration;
import java.time.format.DateTimeParseException;
import java.util.Arrays;
import java.util.Locale;
import java.util.Set;
import java.util.function.UnaryOperator;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Collectors;

import io.pgmigrate.core.BlockingAction;
import io.pgmigrate.core.GuardSettings;
import io.pgmigrate.core.InvalidSettingException;
import io.pgmigrate.core.StandardBlockingAction;
import io.pgmigrate.core.WatchSettings;
import org.flywaydb.core.api.FlywayException;
import org.flywaydb.core.extensibility.ConfigurationExtension;

/**
 * pgmigrate's settings in Flyway's own configuration, for {@link PgMigrateCallback}: the {@code flyway.pgmigrate.*}
 * keys of {@code flyway.conf}, the Maven and Gradle plugins' {@code pluginConfiguration} ({@code pgmigrate.*}),
 * system properties and {@code [flyway.pgmigrate]} in {@code flyway.toml}. Flyway binds the keys to this class
 * through its plugin SPI, which the {@code pgmigrate-flyway} jar registers; unknown keys fail Flyway's
 * configuration. Every value is a string, checked once by {@link #guardSettings()} and {@link #blockingAction()}
 * with the core's settings, so a wrong one names its key as the user wrote it.
 * <p>
 * Bound by Flyway with Jackson: the getters and setters are for Flyway, not for applications.
 */
public final class PgMigrateConfiguration implements ConfigurationExtension {

    /** The namespace of the keys: {@code flyway.pgmigrate.*}. */
    public static final String NAMESPACE = "pgmigrate";

    private static final Pattern DURATION = Pattern.compile("(\\d+)\\s*(ms|s|m|h|d)");

    private String blockingAction;
    private String minDuration;
    private String pollInterval;
    private String lockTimeout;
    private String excludeApplicationNames;
    private String excludeUsers;
    private String actOnSnapshotWaits;
    private String maxApplicationStall;
    private String maxQueryLength;

    /** The settings, as written in documentation and in the environment variables' names. */
    private static final Set<String> SETTINGS = Set.of("blocking-action", "min-duration", "poll-interval",
            "lock-timeout", "exclude-application-names", "exclude-users", "act-on-snapshot-waits",
            "max-application-stall", "max-query-length");

    @Override
    public String getNamespace() {
        return NAMESPACE;
    }

    /** {@code FLYWAY_PGMIGRATE_LOCK_TIMEOUT} sets {@code flyway.pgmigrate.lockTimeout}, and so on for each key. */
    @Override
    public String getConfigurationParameterFromEnvironmentVariable(String environmentVariable) {
        for (String setting : SETTINGS) {
            if (("FLYWAY_PGMIGRATE_" + setting.replace('-', '_').toUpperCase(Locale.ROOT)).equals(environmentVariable)) {
                return key(setting);
            }
        }
        return null;
    }

    /**
     * The guard's settings, from the keys set and the defaults of the rest. Flyway's tools run no retries
     * ({@link GuardSettings#lockRetries()} is 0): a callback cannot run a rolled-back migration again.
     * @throws FlywayException naming the key ({@code flyway.pgmigrate.lockTimeout}), the value and what it accepts
     */
    GuardSettings guardSettings() {
        try {
            WatchSettings defaults = WatchSettings.defaults();
            WatchSettings watch = new WatchSettings(
                    duration("poll-interval", pollInterval, defaults.pollInterval()),
                    duration("min-duration", minDuration, defaults.minDuration()),
                    names(excludeApplicationNames, defaults.excludedApplicationNames()),
                    names(excludeUsers, defaults.excludedUsers()),
                    number("max-query-length", maxQueryLength, defaults.maxQueryLength()),
                    bool("act-on-snapshot-waits", actOnSnapshotWaits, defaults.actOnSnapshotWaits()),
                    duration("max-application-stall", maxApplicationStall, defaults.maxApplicationStall()));
            return GuardSettings.defaults().withWatch(watch).withLockTimeout(duration("lock-timeout", lockTimeout, null));
        }
        catch (InvalidSettingException ex) {
            throw invalid(ex);
        }
    }

    /**
     * The blocking action named by {@code flyway.pgmigrate.blockingAction}, {@code terminate} when unset.
     * @throws FlywayException naming the key and the accepted values
     */
    BlockingAction blockingAction() {
        try {
            return blockingAction == null ? StandardBlockingAction.TERMINATE
                    : StandardBlockingAction.fromConfigName(blockingAction);
        }
        catch (InvalidSettingException ex) {
            throw invalid(ex);
        }
    }

    /** {@code lock-timeout} as Flyway's configuration writes it: {@code flyway.pgmigrate.lockTimeout}. */
    static String key(String setting) {
        StringBuilder key = new StringBuilder("flyway.").append(NAMESPACE).append('.');
        boolean upper = false;
        for (char c : setting.toCharArray()) {
            if (c == '-') {
                upper = true;
            }
            else {
                key.append(upper ? Character.toUpperCase(c) : c);
                upper = false;
            }
        }
        return key.toString();
    }

    private static FlywayException invalid(InvalidSettingException ex) {
        UnaryOperator<String> name = PgMigrateConfiguration::key;
        return new FlywayException("pgmigrate: invalid value '" + ex.value() + "' for " + key(ex.setting()) + ": "
                + ex.reason(name));
    }

    private static Duration duration(String setting, String value, Duration unset) {
        if (value == null || value.isBlank()) {
            return unset;
        }
        String text = value.trim().toLowerCase(Locale.ROOT);
        if (text.equals("0")) {
            return Duration.ZERO;
        }
        Matcher matcher = DURATION.matcher(text);
        if (matcher.matches()) {
            long amount = Long.parseLong(matcher.group(1));
            return switch (matcher.group(2)) {
                case "ms" -> Duration.ofMillis(amount);
                case "s" -> Duration.ofSeconds(amount);
                case "m" -> Duration.ofMinutes(amount);
                case "h" -> Duration.ofHours(amount);
                default -> Duration.ofDays(amount);
            };
        }
        try {
            return Duration.parse(value.trim());
        }
        catch (DateTimeParseException ex) {
            throw new InvalidSettingException(setting, value, setting + " must be a duration, was " + value,
                    (name) -> "it must be a duration with its unit, for example 500ms, 2s or 1m");
        }
    }

    private static int number(String setting, String value, int unset) {
        if (value == null || value.isBlank()) {
            return unset;
        }
        try {
            return Integer.parseInt(value.trim());
        }
        catch (NumberFormatException ex) {
            throw new InvalidSettingException(setting, value, setting + " must be a number, was " + value,
                    (name) -> "it must be a whole number, for example 1000");
        }
    }

    private static boolean bool(String setting, String value, boolean unset) {
        if (value == null || value.isBlank()) {
            return unset;
        }
        return switch (value.trim().toLowerCase(Locale.ROOT)) {
            case "true" -> true;
            case "false" -> false;
            default -> throw new InvalidSettingException(setting, value, setting + " must be true or false, was "
                    + value, (name) -> "accepted values: true, false");
        };
    }

    private static Set<String> names(String value, Set<String> unset) {
        if (value == null) {
            return unset;
        }
        return Arrays.stream(value.split(",")).map(String::trim).filter((name) -> !name.isEmpty())
            .collect(Collectors.toSet());
    }

    public String getBlockingAction() {
        return blockingAction;
    }

    public void setBlockingAction(String blockingAction) {
        this.blockingAction = blockingAction;
    }

    public String getMinDuration() {
        return minDuration;
    }

    public void setMinDuration(String minDuration) {
        this.minDuration = minDuration;
    }

    public String getPollInterval() {
        return pollInterval;
    }

    public void setPollInterval(String pollInterval) {
        this.pollInterval = pollInterval;
    }

    public String getLockTimeout() {
        return lockTimeout;
    }

    public void setLockTimeout(String lockTimeout) {
        this.lockTimeout = lockTimeout;
    }

    public String getExcludeApplicationNames() {
        return excludeApplicationNames;
    }

    public void setExcludeApplicationNames(String excludeApplicationNames) {
        this.excludeApplicationNames = excludeApplicationNames;
    }

    public String getExcludeUsers() {
        return excludeUsers;
    }

    public void setExcludeUsers(String excludeUsers) {
        this.excludeUsers = excludeUsers;
    }

    public String getActOnSnapshotWaits() {
        return actOnSnapshotWaits;
    }

    public void setActOnSnapshotWaits(String actOnSnapshotWaits) {
        this.actOnSnapshotWaits = actOnSnapshotWaits;
    }

    public String getMaxApplicationStall() {
        return maxApplicationStall;
    }

    public void setMaxApplicationStall(String maxApplicationStall) {
        this.maxApplicationStall = maxApplicationStall;
    }

    public String getMaxQueryLength() {
        return maxQueryLength;
    }

    public void setMaxQueryLength(String maxQueryLength) {
        this.maxQueryLength = maxQueryLength;
    }
}
