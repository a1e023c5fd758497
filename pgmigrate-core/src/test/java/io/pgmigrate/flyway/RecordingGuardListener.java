package io.pgmigrate.flyway;

import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;

import io.pgmigrate.core.Blocker;
import io.pgmigrate.core.BlockerOutcome;
import io.pgmigrate.core.BlockerReport;

/** Keeps every event of a guarded run, for assertions. */
class RecordingGuardListener implements GuardListener {

    record Started(int pid, String migration) {
    }

    record Finished(String migration, boolean success, Duration lockWait) {
    }

    final List<Instant> runsStarted = new CopyOnWriteArrayList<>();
    final List<Started> started = new CopyOnWriteArrayList<>();
    final List<Finished> finished = new CopyOnWriteArrayList<>();
    final List<LockTimeoutEvent> lockTimeouts = new CopyOnWriteArrayList<>();
    final List<SelfBlockedEvent> selfBlocked = new CopyOnWriteArrayList<>();
    final List<MigrationRun> runs = new CopyOnWriteArrayList<>();
    final List<List<Blocker>> detections = new CopyOnWriteArrayList<>();
    final List<BlockerReport> reports = new CopyOnWriteArrayList<>();
    final List<Exception> failures = new CopyOnWriteArrayList<>();

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
    public void watcherFailed(Exception error) {
        failures.add(error);
    }

    List<BlockerReport> reports(BlockerOutcome outcome) {
        return reports.stream().filter((report) -> report.outcome() == outcome).toList();
    }
}
