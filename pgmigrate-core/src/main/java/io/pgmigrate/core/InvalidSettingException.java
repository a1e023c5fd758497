package io.pgmigrate.core;

import java.time.Duration;
import java.util.Objects;
import java.util.function.Function;
import java.util.function.UnaryOperator;

import io.pgmigrate.core.internal.Durations;
import org.jspecify.annotations.Nullable;

/**
 * A setting of {@link WatchSettings} or of a guard's settings has a value pgmigrate does not accept. Each setting is
 * checked once, where the settings are made; an integration that reads them from its own configuration (Spring
 * Boot's {@code pgmigrate.*} properties, say) shows {@link #setting()}, {@link #value()} and {@link #reason} in its
 * own words instead of checking again.
 */
public final class InvalidSettingException extends IllegalArgumentException {

    private static final long serialVersionUID = 1L;

    private final String setting;

    private final transient @Nullable Object value;

    private final transient Function<UnaryOperator<String>, String> reason;

    /**
     * @param setting the setting's name as the documentation writes it, for example {@code lock-timeout}
     * @param value the value given, {@code null} when none was
     * @param message the whole message for plain Java: the setting, what it accepts and the value
     * @param reason what the setting accepts, in the user's words, given how the integration names a setting (its
     *        own prefix, for example)
     */
    public InvalidSettingException(String setting, @Nullable Object value, String message,
            Function<UnaryOperator<String>, String> reason) {
        super(message);
        this.setting = Objects.requireNonNull(setting, "setting");
        this.value = value;
        this.reason = Objects.requireNonNull(reason, "reason");
    }

    /** The setting's name, for example {@code lock-timeout} or {@code exclude-users}. */
    public String setting() {
        return setting;
    }

    /** The value given, as a user writes it ({@code 2s}, never {@code PT2S}); {@code null} when none was. */
    public @Nullable Object value() {
        return (value instanceof Duration duration) ? Durations.human(duration) : value;
    }

    /**
     * What the setting accepts, in the user's words, for example {@code it must be a duration between 10ms and 1h,
     * for example 25ms or 1s}.
     * @param name how the integration names a setting, for example {@code name -> "pgmigrate." + name}
     */
    public String reason(UnaryOperator<String> name) {
        return reason.apply(Objects.requireNonNull(name, "name"));
    }

    /** The same, with the settings named as this library names them ({@code lock-timeout}). */
    public String reason() {
        return reason(UnaryOperator.identity());
    }
}
