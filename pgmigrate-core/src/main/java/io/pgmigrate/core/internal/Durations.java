package io.pgmigrate.core.internal;

import java.time.Duration;

/**
 * The one form in which pgmigrate writes a duration for a person to read, in log lines, exception messages,
 * failure analyses and the actuator endpoint: hours, minutes, seconds and milliseconds, each part only when it
 * is not zero, for example {@code 0s}, {@code 25ms}, {@code 2s}, {@code 12.834s}, {@code 1m30s} or
 * {@code 596h31m23.647s}. Durations are rounded to the millisecond.
 */
public final class Durations {

    private static final long MILLIS_PER_SECOND = 1000;

    private static final long MILLIS_PER_MINUTE = 60 * MILLIS_PER_SECOND;

    private static final long MILLIS_PER_HOUR = 60 * MILLIS_PER_MINUTE;

    private Durations() {
    }

    /**
     * A duration as a person reads it.
     * @param duration the duration, not {@code null}
     * @return for example {@code 43ms}, {@code 2.335s} or {@code 1h5m}
     */
    public static String human(Duration duration) {
        if (duration.isNegative()) {
            return "-" + human(duration.negated());
        }
        long millis = duration.getSeconds() * MILLIS_PER_SECOND
                + (duration.getNano() + 500_000) / 1_000_000;
        if (millis == 0) {
            return "0s";
        }
        if (millis < MILLIS_PER_SECOND) {
            return millis + "ms";
        }
        StringBuilder text = new StringBuilder();
        long hours = millis / MILLIS_PER_HOUR;
        long minutes = millis % MILLIS_PER_HOUR / MILLIS_PER_MINUTE;
        long seconds = millis % MILLIS_PER_MINUTE / MILLIS_PER_SECOND;
        long rest = millis % MILLIS_PER_SECOND;
        if (hours > 0) {
            text.append(hours).append('h');
        }
        if (minutes > 0) {
            text.append(minutes).append('m');
        }
        if (seconds > 0 || rest > 0) {
            text.append(seconds);
            if (rest > 0) {
                String fraction = String.format(java.util.Locale.ROOT, "%03d", rest);
                text.append('.').append(fraction.replaceAll("0+$", ""));
            }
            text.append('s');
        }
        return text.toString();
    }
}
