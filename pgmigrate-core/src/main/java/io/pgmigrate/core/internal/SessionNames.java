package io.pgmigrate.core.internal;

import java.nio.charset.StandardCharsets;
import java.util.Collection;
import java.util.LinkedHashSet;
import java.util.Locale;
import java.util.Set;

import io.pgmigrate.core.InvalidSettingException;

/**
 * Names of sessions and roles as PostgreSQL compares them, so that an exclusion written in the configuration
 * matches what {@code pg_stat_activity} shows.
 */
public final class SessionNames {

    /** PostgreSQL's NAMEDATALEN - 1: names and application names are cut to this many bytes. */
    static final int MAX_NAME_BYTES = 63;

    private SessionNames() {
    }

    /**
     * The forms PostgreSQL shows an {@code application_name} in: printable ASCII is kept, cut to 63 bytes at a
     * character boundary; any other byte becomes {@code ?} (PostgreSQL 14 and 15) or {@code \xNN} (from 16), so
     * both forms are returned for such a name.
     */
    static Set<String> applicationName(String name) {
        Set<String> forms = new LinkedHashSet<>();
        StringBuilder questionMarks = new StringBuilder();
        StringBuilder hex = new StringBuilder();
        for (byte b : name.getBytes(StandardCharsets.UTF_8)) {
            int c = b & 0xff;
            if (c >= 32 && c <= 126) {
                questionMarks.append((char) c);
                hex.append((char) c);
            }
            else {
                questionMarks.append('?');
                hex.append(String.format(Locale.ROOT, "\\x%02x", c));
            }
        }
        forms.add(cut(questionMarks.toString()));
        forms.add(cut(hex.toString()));
        return forms;
    }

    /** Every form of every name. */
    static Set<String> applicationNames(Collection<String> names) {
        Set<String> forms = new LinkedHashSet<>();
        for (String name : names) {
            forms.addAll(applicationName(name));
        }
        return Set.copyOf(forms);
    }

    /**
     * A role name as PostgreSQL reads it in SQL: {@code "Quoted"} keeps its case (a doubled quote is one quote),
     * an unquoted name is folded to lower case; both are cut to 63 bytes.
     */
    static String role(String name) {
        String trimmed = name.strip();
        if (trimmed.length() >= 2 && trimmed.startsWith("\"") && trimmed.endsWith("\"")) {
            return cut(trimmed.substring(1, trimmed.length() - 1).replace("\"\"", "\""));
        }
        StringBuilder folded = new StringBuilder(trimmed.length());
        trimmed.chars().forEach((c) -> folded.append((char) (c >= 'A' && c <= 'Z' ? c + ('a' - 'A') : c)));
        return cut(folded.toString());
    }

    /** Every role name as PostgreSQL reads it. */
    static Set<String> roles(Collection<String> names) {
        Set<String> roles = new LinkedHashSet<>();
        for (String name : names) {
            roles.add(role(name));
        }
        return Set.copyOf(roles);
    }

    /** The names, checked: none may be blank, since a blank name would match sessions that set no name. */
    public static Collection<String> requireNames(Collection<String> names, String setting) {
        if (names == null) {
            throw new InvalidSettingException(setting, null, setting + " must hold names, not be unset",
                    (name) -> "it must be a list of names");
        }
        for (String name : names) {
            if (name == null || name.isBlank()) {
                throw new InvalidSettingException(setting, name, setting + " must hold names, not a blank one",
                        (settingName) -> "it must be a name, not blank");
            }
        }
        return names;
    }

    /** Cut to at most 63 bytes of UTF-8, never inside a character. */
    private static String cut(String text) {
        byte[] bytes = text.getBytes(StandardCharsets.UTF_8);
        if (bytes.length <= MAX_NAME_BYTES) {
            return text;
        }
        int end = 0;
        int bytesSoFar = 0;
        while (end < text.length()) {
            int codePoint = text.codePointAt(end);
            int size = new String(Character.toChars(codePoint)).getBytes(StandardCharsets.UTF_8).length;
            if (bytesSoFar + size > MAX_NAME_BYTES) {
                break;
            }
            bytesSoFar += size;
            end += Character.charCount(codePoint);
        }
        return text.substring(0, end);
    }
}
