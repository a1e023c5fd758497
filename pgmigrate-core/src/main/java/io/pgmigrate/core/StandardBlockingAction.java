package io.pgmigrate.core;

import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.stream.Collectors;

/** The built-in {@link BlockingAction}s. */
public enum StandardBlockingAction implements BlockingAction {

    /** Terminates every blocker with {@code pg_terminate_backend} (the default). */
    TERMINATE {
        @Override
        public void act(List<Blocker> blockers, BlockerControl control) throws java.sql.SQLException {
            control.terminate(blockers);
        }
    },

    /**
     * Cancels each blocker's running statement with {@code pg_cancel_backend}. A session idle in a
     * transaction runs no statement: cancelling leaves its locks in place.
     */
    CANCEL {
        @Override
        public void act(List<Blocker> blockers, BlockerControl control) throws java.sql.SQLException {
            control.cancel(blockers);
        }
    },

    /** Logs every blocker once, leaving it alone. */
    SHOW {
        @Override
        public void act(List<Blocker> blockers, BlockerControl control) {
            blockers.forEach(control::show);
        }
    },

    /** Does nothing; blockers are still reported to listeners. */
    NONE {
        @Override
        public void act(List<Blocker> blockers, BlockerControl control) {
            blockers.forEach(control::ignore);
        }
    };

    /** The name used in configuration: {@code terminate}, {@code cancel}, {@code show} or {@code none}. */
    public String configName() {
        return name().toLowerCase(Locale.ROOT);
    }

    /**
     * The action with the given configuration name, ignoring case.
     * @throws InvalidSettingException naming the accepted values when there is none
     */
    public static StandardBlockingAction fromConfigName(String name) {
        for (StandardBlockingAction action : values()) {
            if (action.configName().equalsIgnoreCase(name == null ? "" : name.trim())) {
                return action;
            }
        }
        String accepted = "accepted values: "
                + Arrays.stream(values()).map(StandardBlockingAction::configName).collect(Collectors.joining(", "));
        throw new InvalidSettingException("blocking-action", name,
                "Unknown blocking action '" + name + "'; " + accepted, (setting) -> accepted);
    }
}
