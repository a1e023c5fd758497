package io.pgmigrate.autoconfigure.endpoint;

import java.time.Instant;
import java.util.List;
import java.util.Locale;

import com.fasterxml.jackson.annotation.JsonInclude;
import io.pgmigrate.core.Blocker;
import io.pgmigrate.core.BlockerReport;
import io.pgmigrate.core.MigrationRun;
import io.pgmigrate.core.SelfBlockedEvent;
import io.pgmigrate.core.WaitCancellation;
import io.pgmigrate.core.internal.BlockerText;
import io.pgmigrate.core.internal.Durations;
import io.pgmigrate.flyway.FlywayGuard;

import org.springframework.boot.actuate.endpoint.OperationResponseBody;
import org.springframework.boot.actuate.endpoint.annotation.Endpoint;
import org.springframework.boot.actuate.endpoint.annotation.ReadOperation;

/**
 * The {@code pgmigrate} actuator endpoint: the most recent guarded migration runs, each with its start, end,
 * outcome, the migrations it applied, the PostgreSQL backends that ran them, and every session that blocked them
 * with what was done about it. Query texts are cut to a maximum length. Durations are written as the log writes
 * them ({@code 12.834s}), with a field in milliseconds beside them for machines ({@code ageMillis}); fields
 * without a value are left out.
 * <p>
 * A blocker's {@code query} is its current statement, or for a session that is idle (also idle in transaction)
 * the last statement it ran, which need not be the one that took the lock: a session that ran
 * {@code SELECT pg_backend_pid()} after locking the table shows that.
 */
@Endpoint(id = "pgmigrate")
public class PgMigrateEndpoint {

    private final MigrationHistory history;

    private final int maxTextLength;

    /**
     * An endpoint over the given history.
     * @param history the recent runs
     * @param maxTextLength longest query or failure text shown, in characters
     */
    public PgMigrateEndpoint(MigrationHistory history, int maxTextLength) {
        this.history = history;
        this.maxTextLength = maxTextLength;
    }

    /** The recent runs, newest first. */
    @ReadOperation
    public RunsDescriptor runs() {
        return new RunsDescriptor(this.history.runs().stream().map(this::describe).toList());
    }

    private RunDescriptor describe(MigrationHistory.Entry entry) {
        MigrationRun run = entry.run();
        return new RunDescriptor(run.started(), run.finished(), run.success() ? "success" : "failure",
                run.migrationsApplied(), entry.migrations(), run.backendPids(),
                run.blockers().stream().map(this::describe).toList(),
                entry.selfBlocked().stream().map(PgMigrateEndpoint::describe).toList(),
                entry.waitCancellations().stream().map(PgMigrateEndpoint::describe).toList(), cut(run.failure()));
    }

    private static WaitCancelledDescriptor describe(WaitCancellation event) {
        return new WaitCancelledDescriptor(event.work(), event.pid(), event.reason().name().toLowerCase(Locale.ROOT),
                event.waitingFor(), event.queuedSessions(), Durations.human(event.applicationQueued()),
                Durations.human(event.maxApplicationStall()),
                event.keptBlockers().stream()
                    .map((report) -> new KeptBlockerDescriptor(report.blocker().pid(),
                            report.blocker().preparedTransaction(), report.outcome().name().toLowerCase(Locale.ROOT),
                            report.detail()))
                    .toList());
    }

    private static SelfBlockedDescriptor describe(SelfBlockedEvent event) {
        return new SelfBlockedDescriptor(event.migration(), event.blocker().blockedPid(), event.blocker().pid(),
                event.blocker().state(), FlywayGuard.SPRING_BOOT_TRANSACTIONAL_LOCK_FIX);
    }

    private BlockerDescriptor describe(BlockerReport report) {
        Blocker blocker = report.blocker();
        return new BlockerDescriptor(blocker.pid(), blocker.preparedTransaction(), report.blockedWork(),
                report.outcome().name().toLowerCase(Locale.ROOT), emptyToNull(report.detail()), blocker.user(),
                blocker.database(), blocker.applicationName(), blocker.clientAddress(), blocker.backendType(),
                blocker.state(), (blocker.age() != null) ? Durations.human(blocker.age()) : null,
                (blocker.age() != null) ? blocker.age().toMillis() : null, blocker.transactionStart(), blocker.lockModes(), blocker.lockGranted(), blocker.lockedObject(),
                cut(blocker.query()));
    }

    private static String emptyToNull(String text) {
        return (text == null || text.isEmpty()) ? null : text;
    }

    private String cut(String text) {
        // a query kept whole for the log is shown whole here too
        return BlockerText.cut(text, this.maxTextLength);
    }

    /**
     * The endpoint's answer.
     * @param runs the recent runs, newest first
     */
    public record RunsDescriptor(List<RunDescriptor> runs) implements OperationResponseBody {
    }

    /**
     * One guarded run of {@code flyway.migrate()}.
     * @param started when it started
     * @param finished when it ended
     * @param outcome {@code success} or {@code failure}
     * @param migrationsApplied how many migrations it applied
     * @param migrations the migrations it started, in order
     * @param backendPids the PostgreSQL backends that ran the migrations
     * @param blockers every session that blocked a migration, with what was done about it
     * @param selfBlocked the migrations that waited for Flyway's own connection, which pgmigrate never ends
     * @param waitsCancelled the migration lock waits pgmigrate cancelled
     * @param failure why the run failed, {@code null} on success
     */
    public record RunDescriptor(Instant started, Instant finished, String outcome, int migrationsApplied,
            List<String> migrations, List<Integer> backendPids, List<BlockerDescriptor> blockers,
            List<SelfBlockedDescriptor> selfBlocked, List<WaitCancelledDescriptor> waitsCancelled, String failure) {
    }

    /**
     * A migration's lock wait that pgmigrate cancelled.
     * @param migration the migration, for example {@code migration 2 (add email)}
     * @param backendPid the backend that ran it
     * @param reason {@code application_stall} (the application queued behind it for longer than
     *        {@code pgmigrate.max-application-stall}) or {@code interrupt} (the migrating thread was interrupted)
     * @param waitingFor what it waited for, for example {@code public.orders}
     * @param queuedSessions how many sessions queued behind it when the wait was cancelled
     * @param applicationQueued how long sessions had queued behind it without a break, as the log writes durations
     *        ({@code 2.013s})
     * @param maxApplicationStall the bound in force, for example {@code 2s}
     * @param kept the sessions it waited for that pgmigrate kept, each with why
     */
    public record WaitCancelledDescriptor(String migration, int backendPid, String reason, String waitingFor,
            int queuedSessions, String applicationQueued, String maxApplicationStall,
            List<KeptBlockerDescriptor> kept) {
    }

    /**
     * A session a cancelled migration waited for, which pgmigrate kept.
     * @param pid its backend pid, {@code 0} for a prepared transaction
     * @param preparedTransaction the prepared transaction's gid, {@code null} for a session
     * @param outcome why it was kept, for example {@code excluded} or {@code not_permitted}
     * @param detail one sentence about why, empty when the outcome says it all
     */
    public record KeptBlockerDescriptor(int pid, String preparedTransaction, String outcome, String detail) {
    }

    /**
     * A migration that waited for Flyway's own connection: with Flyway's transactional advisory lock, that
     * connection keeps a transaction open that a statement such as {@code CREATE INDEX CONCURRENTLY} waits for.
     * @param migration the migration, for example {@code 3 (index orders)}
     * @param backendPid the backend that ran it
     * @param flywayPid the backend of Flyway's connection it waited for
     * @param flywayState that connection's state, for example {@code idle in transaction}
     * @param fix the Spring Boot property that ends the problem
     */
    public record SelfBlockedDescriptor(String migration, int backendPid, int flywayPid, String flywayState,
            String fix) {
    }

    /**
     * A session that blocked a migration.
     * @param pid its backend pid, {@code 0} for a prepared transaction
     * @param preparedTransaction the prepared transaction's gid, {@code null} for a session
     * @param blocked the migration it blocked
     * @param action what was done: {@code terminated}, {@code canceled}, {@code shown}, {@code ignored},
     *        {@code custom}, or why nothing was ({@code too_young}, {@code excluded}, {@code protected},
     *        {@code system_process}, {@code snapshot_wait}, {@code not_permitted}, {@code unendable}, {@code gone})
     * @param detail one sentence about the action, {@code null} (left out) when the action says it all
     * @param user its role
     * @param database its database
     * @param applicationName its application_name
     * @param clientAddress its client address, {@code null} for a Unix socket
     * @param backendType {@code client backend} for a client session, or the kind of PostgreSQL process
     *        ({@code autovacuum worker}, {@code walsender}, ...); {@code null} when PostgreSQL hid it
     * @param state its state, for example {@code idle in transaction}
     * @param age how long it had held its locks, for example {@code 12.834s}
     * @param ageMillis the same in milliseconds
     * @param transactionStart when its transaction began
     * @param lockModes the lock modes it held or requested on the object the migration waited for
     * @param lockGranted whether it held the lock, rather than queue for it ahead of the migration
     * @param lockedObject what the migration waited for, for example {@code public.orders}
     * @param query its current query, or for an idle session (also idle in transaction) the last one it ran, which
     *        need not be the one that took the lock; cut to the maximum length
     */
    @JsonInclude(JsonInclude.Include.NON_EMPTY)
    public record BlockerDescriptor(int pid, String preparedTransaction, String blocked, String action, String detail,
            String user, String database, String applicationName, String clientAddress, String backendType,
            String state, String age, Long ageMillis, Instant transactionStart, String lockModes, boolean lockGranted, String lockedObject, String query) {
    }
}
