package io.pgmigrate.core.internal;

import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.regex.Pattern;

import io.pgmigrate.core.Blocker;
import io.pgmigrate.core.BlockerReport;
import org.jspecify.annotations.Nullable;

/**
 * The one way pgmigrate writes a blocker and the texts that come with it: its facts as ordered fields, texts on one
 * line, {@code key=value} pairs whose values cannot end early and forge another pair, and cut texts. The log lines,
 * the exception messages, the failure analyses and the endpoint all write blockers through it.
 */
public final class BlockerText {

    /**
     * White space and line breaks, including those {@code \\s} does not match (NEL, LINE SEPARATOR, PARAGRAPH
     * SEPARATOR), which log viewers and parsers also split lines on.
     */
    private static final Pattern LINE_BREAKS_AND_SPACES = Pattern.compile("[\\s\\u0085\\u2028\\u2029]+");

    /** How much of a query a sentence gives: enough to recognise it in a failure analysis. */
    private static final int SENTENCE_QUERY_LENGTH = 200;

    /** The fields of {@link #fields} an exception line gives, in order. */
    private static final List<String> LINE_KEYS = List.of("pid", "gid", "user", "application", "backend_type", "state",
            "age", "query");

    private BlockerText() {
    }

    /**
     * A blocker's facts in the order a log line gives them, keyed as in the line ({@code pid} or {@code gid},
     * {@code blocked_pid}, {@code user}, {@code database}, {@code application}, {@code client},
     * {@code backend_type}, {@code state}, {@code age}, {@code lock}, {@code lock_granted}, {@code object},
     * {@code waited}, {@code query}); facts PostgreSQL did not show are left out, texts are as PostgreSQL gave them
     * (write them with {@link #append} or {@link #value}), durations as {@link Durations#human} writes them.
     */
    public static Map<String, Object> fields(Blocker blocker) {
        Map<String, Object> fields = new LinkedHashMap<>();
        if (blocker.isPreparedTransaction()) {
            put(fields, "gid", blocker.preparedTransaction());
        }
        else {
            put(fields, "pid", blocker.pid());
        }
        put(fields, "blocked_pid", blocker.blockedPid());
        put(fields, "user", blocker.user());
        put(fields, "database", blocker.database());
        put(fields, "application", blocker.applicationName());
        put(fields, "client", blocker.clientAddress());
        put(fields, "backend_type", blocker.backendType());
        put(fields, "state", blocker.state());
        put(fields, "age", human(blocker.age()));
        put(fields, "lock", blocker.lockModes());
        put(fields, "lock_granted", blocker.lockGranted());
        put(fields, "object", blocker.lockedObject());
        put(fields, "waited", human(blocker.blockedFor()));
        put(fields, "query", blocker.query());
        return fields;
    }

    /**
     * Appends {@code " key=value"} to a line: the value on one line and escaped (see {@link #value}); nothing when
     * the value is {@code null} or empty.
     */
    public static void append(StringBuilder line, String key, @Nullable Object value) {
        if (value == null || "".equals(value)) {
            return;
        }
        line.append(' ').append(key).append('=').append(value(value.toString()));
    }

    /**
     * A text (a query, role, database, object or transaction name; quoted identifiers may hold line breaks) on one
     * line: each run of white space or line breaks becomes one space. {@code null} for {@code null}.
     */
    public static @Nullable String oneLine(@Nullable String text) {
        return text == null ? null : LINE_BREAKS_AND_SPACES.matcher(text).replaceAll(" ").trim();
    }

    /**
     * A text as the value of a {@code key=value} pair in a log line or message: on one line (see {@link #oneLine});
     * in double quotes, with {@code \} and {@code "} escaped by a backslash, when it is empty or holds a space, a
     * quote, an equals sign or a backslash, so that no value can end early and forge another pair. {@code null} for
     * {@code null}.
     */
    public static @Nullable String value(@Nullable String text) {
        if (text == null) {
            return null;
        }
        String value = oneLine(text);
        boolean quote = value.isEmpty()
                || value.chars().anyMatch((c) -> c == ' ' || c == '"' || c == '=' || c == '\\');
        return quote ? '"' + value.replace("\\", "\\\\").replace("\"", "\\\"") + '"' : value;
    }

    /**
     * A text cut to at most {@code max} characters, counted as PostgreSQL's {@code left()} counts them when the
     * watcher cuts a query (code points), so no cut splits a surrogate pair (an emoji, say), followed by
     * {@code ...} when something was cut. {@code null} for {@code null}.
     */
    public static @Nullable String cut(@Nullable String text, int max) {
        if (text == null || text.codePointCount(0, text.length()) <= max) {
            return text;
        }
        return text.substring(0, text.offsetByCodePoints(0, max)) + "...";
    }

    /** Blockers as exception-message lines, each starting on a new line; a sentence when there were none. */
    public static String list(List<Blocker> blockers) {
        if (blockers.isEmpty()) {
            return "\nNo blocking session was seen by the watcher (it may have ended, or the wait was shorter "
                    + "than the poll interval).";
        }
        StringBuilder text = new StringBuilder("\nBlocking sessions seen while it waited:");
        for (Blocker blocker : blockers) {
            text.append("\n  ").append(line(blocker));
        }
        return text.toString();
    }

    /**
     * A blocker as one exception-message line: the fields an operator needs to find and judge the session, with the
     * keys of {@link #fields} ({@code pid} or {@code gid}, {@code user}, {@code application}, {@code backend_type},
     * {@code state}, {@code age}, {@code query}), each given, {@code unknown} when PostgreSQL did not show it.
     */
    public static String line(Blocker blocker) {
        Map<String, Object> fields = fields(blocker);
        StringBuilder line = new StringBuilder();
        for (String key : LINE_KEYS) {
            Object value = fields.get(key);
            if (key.equals("pid") && blocker.isPreparedTransaction() || key.equals("gid") && !blocker.isPreparedTransaction()
                    || key.equals("backend_type") && value == null) {
                continue;
            }
            line.append(line.length() == 0 ? "" : " ").append(key).append('=')
                .append(value == null ? "unknown" : value(value.toString()));
        }
        return line.toString();
    }

    /**
     * A blocker in a sentence, as a failure analysis writes it: the same facts as {@link #fields}, in the same order,
     * named in words ({@code pid 4242, user app, application reporting, client 10.0.0.7, state idle in transaction,
     * holding locks for 30s, holds AccessShareLock on public.accounts, query SELECT ...}), the query cut to
     * 200 characters; facts PostgreSQL did not show are left out.
     */
    public static String sentence(Blocker blocker) {
        Map<String, Object> fields = fields(blocker);
        StringBuilder text = new StringBuilder();
        if (blocker.isPreparedTransaction()) {
            text.append("prepared transaction '").append(oneLine(blocker.preparedTransaction())).append('\'');
        }
        else {
            text.append("pid ").append(blocker.pid());
        }
        for (Map.Entry<String, Object> field : fields.entrySet()) {
            String value = oneLine(field.getValue().toString());
            switch (field.getKey()) {
                case "user", "application", "client", "state" -> text.append(", ").append(field.getKey()).append(' ')
                    .append(value);
                case "backend_type" -> {
                    if (!Blocker.CLIENT_BACKEND.equals(value)) {
                        text.append(", backend type ").append(value);
                    }
                }
                case "age" -> text.append(", holding locks for ").append(value);
                case "lock" -> {
                    text.append(blocker.lockGranted() ? ", holds " : ", queues ahead of it for ").append(value);
                    if (fields.containsKey("object")) {
                        text.append(" on ").append(oneLine(fields.get("object").toString()));
                    }
                }
                case "query" -> text.append(", query ").append(cut(value, SENTENCE_QUERY_LENGTH));
                default -> {
                    // pid, gid, blocked_pid, database, lock_granted, object and waited: said above, or not needed
                    // to find and judge the session
                }
            }
        }
        return text.toString();
    }

    /** A blocker that was kept, with why: its line, then {@code kept=<outcome> reason="..."}. */
    public static String kept(BlockerReport report) {
        StringBuilder line = new StringBuilder(line(report.blocker()));
        line.append(" kept=").append(report.outcome().name().toLowerCase(Locale.ROOT));
        if (!report.detail().isEmpty()) {
            line.append(" reason=").append(known(report.detail()));
        }
        return line.toString();
    }

    /** A lock timeout as messages write it: {@code 2s}, or {@code server-default} when pgmigrate set none. */
    public static String lockTimeout(@Nullable Duration lockTimeout) {
        return lockTimeout == null ? "server-default" : Durations.human(lockTimeout);
    }

    private static String known(String text) {
        return text == null ? "unknown" : value(text);
    }

    private static String human(Duration duration) {
        return duration == null ? null : Durations.human(duration);
    }

    private static void put(Map<String, Object> fields, String key, Object value) {
        if (value != null && !"".equals(value)) {
            fields.put(key, value);
        }
    }
}
