package io.pgmigrate.flyway;

import io.pgmigrate.core.GuardListener;
import io.pgmigrate.core.LockTimeoutEvent;
import io.pgmigrate.core.SelfBlockedEvent;
import io.pgmigrate.core.MigrationRun;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.stream.Stream;

import io.pgmigrate.core.Blocker;
import io.pgmigrate.core.BlockerOutcome;
import io.pgmigrate.core.BlockerReport;
import io.pgmigrate.core.WaitCancellation;

/** Keeps every event of guarded runs, for the assertions of the Flyway and the reliability tests. */
public class RecordingGuardListener implements GuardListener {

    /** A migration started on a backend. */
    public record Started(int pid, String migration) {
    }

    /** A migration finished. */
    public record Finished(String migration, boolean success, Duration lockWait) {
    }

    public final List<Instant> runsStarted = new CopyOnWriteArrayList<>();
    public final List<Started> started = new CopyOnWriteArrayList<>();
    public final List<Finished> finished = new CopyOnWriteArrayList<>();
    public final List<LockTimeoutEvent> lockTimeouts = new CopyOnWriteArrayList<>();
    public final List<SelfBlockedEvent> selfBlocked = new CopyOnWriteArrayList<>();
    public final List<MigrationRun> runs = new CopyOnWriteArrayList<>();
    public final List<List<Blocker>> detections = new CopyOnWriteArrayList<>();
    public final List<BlockerReport> reports = new CopyOnWriteArrayList<>();
    public final List<Exception> failures = new CopyOnWriteArrayList<>();
    public final List<WaitCancellation> waitCancellations = new CopyOnWriteArrayList<>();

    @Override
    public void runStarted(Instant at) {
        runsStarted.add(at);
    }

    @Override
    public void migrationStarted(int backendPid, String migration) {
        started.add(new Started(backendPid, migration));
    }

    @Override
    public void migrationFinished(String migration, boolean success, Duration lockWait) {
        finished.add(new Finished(migration, success, lockWait));
    }

    @Override
    public void lockTimeout(LockTimeoutEvent event) {
        lockTimeouts.add(event);
    }

    @Override
    public void selfBlocked(SelfBlockedEvent event) {
        selfBlocked.add(event);
    }

    @Override
    public void runFinished(MigrationRun run) {
        runs.add(run);
    }

    @Override
    public void blockersDetected(List<Blocker> blockers) {
        detections.add(blockers);
    }

    @Override
    public void blockerHandled(BlockerReport report) {
        reports.add(report);
    }

    @Override
    public void waitCancelled(WaitCancellation event) {
        waitCancellations.add(event);
    }

    @Override
    public void watcherFailed(Exception error) {
        failures.add(error);
    }

    public List<BlockerReport> reports(BlockerOutcome outcome) {
        return reports.stream().filter((report) -> report.outcome() == outcome).toList();
    }

    /** The names of the migrations started, in order, one entry per start. */
    public List<String> migrationsStarted() {
        return started.stream().map(Started::migration).toList();
    }

    /** The reports about one session. */
    public List<BlockerReport> reportsFor(int pid) {
        return reports.stream().filter((report) -> report.blocker().pid() == pid).toList();
    }

    public List<Integer> terminatedPids() {
        return reports(BlockerOutcome.TERMINATED).stream().map((report) -> report.blocker().pid()).toList();
    }

    /** Every pid the watcher ever saw, in a detection or a report. */
    public List<Integer> pidsSeen() {
        return Stream.concat(detections.stream().flatMap(List::stream), reports.stream().map(BlockerReport::blocker))
            .map(Blocker::pid)
            .distinct()
            .toList();
    }

    /** A recording listener that ends the blocker's transaction at the first lock timeout, so the retry applies. */
    public static RecordingGuardListener endingAtLockTimeout(io.pgmigrate.testsupport.TestSession blocker) {
        return new RecordingGuardListener() {
            @Override
            public void lockTimeout(LockTimeoutEvent event) {
                super.lockTimeout(event);
                try {
                    blocker.rollback();
                }
                catch (java.sql.SQLException ex) {
                    throw new IllegalStateException(ex);
                }
            }
        };
    }
}
