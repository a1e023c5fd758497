package io.pgmigrate.autoconfigure;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;

import io.pgmigrate.core.StandardBlockingAction;
import io.pgmigrate.core.WatchSettings;

import org.springframework.boot.context.properties.ConfigurationProperties;

/**
 * Configuration of the guard around Spring Boot's start-up Flyway migration ({@code pgmigrate.*}).
 * <p>
 * Values are checked when the guard is built; an invalid one stops the start-up with a message that
 * names the property and the values it accepts.
 */
@ConfigurationProperties("pgmigrate")
public class PgMigrateProperties {

    /**
     * Whether to guard Flyway's start-up migration: watch for sessions that block it and deal with them.
     */
    private boolean enabled = true;

    /**
     * What to do with a session that blocks a migration: 'terminate' ends it with pg_terminate_backend,
     * rolling back its transaction; 'cancel' cancels its running statement with pg_cancel_backend (a session
     * idle in transaction keeps its locks); 'show' only logs it; 'none' does nothing. A bean of type
     * io.pgmigrate.core.BlockingAction replaces this setting.
     */
    private StandardBlockingAction blockingAction = StandardBlockingAction.TERMINATE;

    /**
     * Act only on sessions that have held their locks at least this long (the age of their transaction).
     * Zero acts on every blocker at once.
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
     * How often a transactional migration that hit the lock timeout is rolled back and tried again before
     * the start-up fails. Needs pgmigrate.lock-timeout.
     */
    private int lockRetries;

    /**
     * Pause before the first retry of a migration that hit the lock timeout; it doubles with every further
     * attempt, up to 30 seconds.
     */
    private Duration lockRetryDelay = Duration.ofSeconds(1);

    /**
     * Application names (PostgreSQL application_name, exact match) whose sessions are never acted on, for
     * example backup or replication tools.
     */
    private List<String> excludeApplicationNames = new ArrayList<>();

    /**
     * Database roles whose sessions are never acted on.
     */
    private List<String> excludeUsers = new ArrayList<>();

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

    public StandardBlockingAction getBlockingAction() {
        return this.blockingAction;
    }

    public void setBlockingAction(StandardBlockingAction blockingAction) {
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

    public int getMaxQueryLength() {
        return this.maxQueryLength;
    }

    public void setMaxQueryLength(int maxQueryLength) {
        this.maxQueryLength = maxQueryLength;
    }
}
