package io.pgmigrate.core;

import java.sql.SQLException;
import java.util.Collection;

/**
 * What a {@link BlockingAction} may do to the blockers it is given. Terminate and cancel are safe by
 * construction: the statement that sends the signal checks, at that moment, that the session still
 * blocks the watched backend, is the same connection in the same transaction as reported, and is not
 * protected; a blocker that fails the check is reported {@link BlockerOutcome#GONE} and left alone.
 */
public interface BlockerControl {

    /** Ends the sessions with {@code pg_terminate_backend}, rolling back their transactions. */
    void terminate(Collection<Blocker> blockers) throws SQLException;

    /** Cancels the sessions' running statements with {@code pg_cancel_backend}. */
    void cancel(Collection<Blocker> blockers) throws SQLException;

    /** Reports the blocker for an operator (a WARN log line) and leaves it alone. */
    void show(Blocker blocker);

    /** Leaves the blocker alone without a word. */
    void ignore(Blocker blocker);
}
