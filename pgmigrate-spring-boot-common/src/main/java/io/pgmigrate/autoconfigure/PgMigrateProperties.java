package io.pgmigrate.autoconfigure;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;

import io.pgmigrate.core.WatchSettings;

import org.springframework.boot.context.properties.ConfigurationProperties;

/**
 * Configuration of the guard around Spring Boot's start-up Flyway migration and Liquibase update
 * ({@code pgmigrate.*}).
 * <p>
 * Values are checked when the guard is built; an invalid one stops the start-up with a message that
 * names the property and the values it accepts.
 */
@ConfigurationProperties("pgmigrate")
public class PgMigrateProperties {

    /**
     * Whether to guard Flyway's start-up migration and Liquibase's start-up update: watch for sessions that
     * block them and deal with them.
     */
    private boolean enabled = true;

    /**
     * What to do with a session that blocks a migration: 'terminate' ends it with pg_terminate_backend,
     * rolling back its transaction; 'cancel' cancels its running statement with pg_cancel_backend (a session
     * idle in transaction keeps its locks); 'show' only logs it; 'none' does nothing. A bean of type
     * io.pgmigrate.core.BlockingAction replaces this setting. Case does not matter.
     */
    private String blockingAction = "terminate";

    /**
     * Act only on sessions that have held their locks at least this long: the age of their transaction, or for a
     * session outside a transaction (holding a session-level advisory lock) the time since its last statement
     * ended. Zero acts on every blocker at once.
     */
    private Duration minDuration = Duration.ZERO;

    /**
     * How often the watcher asks PostgreSQL which sessions block the migration while it runs.
     */
    private Duration pollInterval = WatchSettings.DEFAULT_POLL_INTERVAL;

    /**
     * PostgreSQL lock_timeout for every migration statement: a statement that waits longer for a lock fails
     * instead of queueing every other query on the table behind it. Unset leaves the server's setting.
     */
    private Duration lockTimeout;

    /**
     * How often a transactional migration that hit the lock timeout, or whose lock wait was cancelled because
     * the application queued behind it longer than pgmigrate.max-application-stall, is rolled back and tried
     * again before the start-up fails. Needs pgmigrate.lock-timeout or a pgmigrate.max-application-stall above
     * zero.
     */
    private int lockRetries;

    /**
     * Pause before the first retry of a migration that hit the lock timeout; it doubles with every further
     * attempt, up to 30 seconds.
     */
    private Duration lockRetryDelay = Duration.ofSeconds(1);

    /**
     * Application names (PostgreSQL application_name, compared as PostgreSQL stores it: cut to 63 bytes) whose
     * sessions are never acted on. Backups are in the default list (pg_dump, pg_dumpall); setting this property
     * replaces the list, so keep them in it.
     */
    private List<String> excludeApplicationNames = new ArrayList<>(List.of("pg_dump", "pg_dumpall"));

    /**
     * Roles whose sessions are never acted on, written as in SQL: unquoted names are folded to lower case,
     * "Quoted" names keep their case. A role that does not exist gets one WARN line when the guard starts.
     */
    private List<String> excludeUsers = new ArrayList<>();

    /**
     * Whether to act on the sessions a migration waits for only through a snapshot: CREATE INDEX CONCURRENTLY,
     * REINDEX CONCURRENTLY, DROP INDEX CONCURRENTLY and DETACH PARTITION CONCURRENTLY wait for every older
     * transaction of the database to end, although those hold no lock on the table and no application query
     * queues behind the wait. By default they are reported once and left alone.
     */
    private boolean actOnSnapshotWaits;

    /**
     * How long a migration may keep application queries queued behind its lock wait while the sessions it
     * waits for cannot be ended (excluded, a backup, not permitted, a system process, younger than
     * min-duration, or the action leaves them alone). Then the watcher cancels the migration's wait:
     * PostgreSQL rolls a transactional migration back whole, and it is retried as after a lock timeout
     * (pgmigrate.lock-retries). A wait that queues no one, such as CREATE INDEX CONCURRENTLY waiting for old
     * snapshots, is never cancelled. 0 turns the bound off.
     */
    private Duration maxApplicationStall = WatchSettings.DEFAULT_MAX_APPLICATION_STALL;

    /**
     * Longest query text kept, logged and shown for a blocking session, in characters.
     */
    private int maxQueryLength = WatchSettings.DEFAULT_MAX_QUERY_LENGTH;

    public boolean isEnabled() {
        return this.enabled;
    }

    public void setEnabled(boolean enabled) {
        this.enabled = enabled;
    }

    public String getBlockingAction() {
        return this.blockingAction;
    }

    public void setBlockingAction(String blockingAction) {
        this.blockingAction = blockingAction;
    }

    public Duration getMinDuration() {
        return this.minDuration;
    }

    public void setMinDuration(Duration minDuration) {
        this.minDuration = minDuration;
    }

    public Duration getPollInterval() {
        return this.pollInterval;
    }

    public void setPollInterval(Duration pollInterval) {
        this.pollInterval = pollInterval;
    }

    public Duration getLockTimeout() {
        return this.lockTimeout;
    }

    public void setLockTimeout(Duration lockTimeout) {
        this.lockTimeout = lockTimeout;
    }

    public int getLockRetries() {
        return this.lockRetries;
    }

    public void setLockRetries(int lockRetries) {
        this.lockRetries = lockRetries;
    }

    public Duration getLockRetryDelay() {
        return this.lockRetryDelay;
    }

    public void setLockRetryDelay(Duration lockRetryDelay) {
        this.lockRetryDelay = lockRetryDelay;
    }

    public List<String> getExcludeApplicationNames() {
        return this.excludeApplicationNames;
    }

    public void setExcludeApplicationNames(List<String> excludeApplicationNames) {
        this.excludeApplicationNames = excludeApplicationNames;
    }

    public List<String> getExcludeUsers() {
        return this.excludeUsers;
    }

    public void setExcludeUsers(List<String> excludeUsers) {
        this.excludeUsers = excludeUsers;
    }

    public boolean isActOnSnapshotWaits() {
        return this.actOnSnapshotWaits;
    }

    public void setActOnSnapshotWaits(boolean actOnSnapshotWaits) {
        this.actOnSnapshotWaits = actOnSnapshotWaits;
    }

    public Duration getMaxApplicationStall() {
        return this.maxApplicationStall;
    }

    public void setMaxApplicationStall(Duration maxApplicationStall) {
        this.maxApplicationStall = maxApplicationStall;
    }

    public int getMaxQueryLength() {
        return this.maxQueryLength;
    }

    public void setMaxQueryLength(int maxQueryLength) {
        this.maxQueryLength = maxQueryLength;
    }
}
