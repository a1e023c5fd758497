package io.pgmigrate.core;

import java.sql.SQLException;
import java.util.List;

/**
 * Decides what to do with the sessions that block a watched migration. Called on the watcher's thread,
 * once per poll that finds blockers, with the blockers that passed the filters (minimum duration,
 * exclusions, protected sessions). A blocker the action neither terminates, cancels, shows nor ignores
 * is reported as {@link BlockerOutcome#CUSTOM}.
 * <p>
 * The built-in actions are the constants of {@link StandardBlockingAction}. Implement this interface for
 * anything else, for example terminating only sessions of a reporting tool and showing the rest:
 * <pre>{@code
 * BlockingAction action = (blockers, control) -> {
 *     for (Blocker blocker : blockers) {
 *         if (blocker.applicationName().startsWith("report")) {
 *             control.terminate(List.of(blocker));
 *         } else {
 *             control.show(blocker);
 *         }
 *     }
 * };
 * }</pre>
 */
@FunctionalInterface
public interface BlockingAction {

    /**
     * Acts on the blockers of one poll through {@code control}.
     * @throws SQLException when the database fails; the watcher reports it and polls again
     */
    void act(List<Blocker> blockers, BlockerControl control) throws SQLException;
}
