package io.pgmigrate.reliability;

import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;

import io.pgmigrate.core.Blocker;
import io.pgmigrate.core.BlockerOutcome;
import io.pgmigrate.core.BlockerReport;
import io.pgmigrate.flyway.GuardListener;
import io.pgmigrate.flyway.LockTimeoutEvent;
import io.pgmigrate.flyway.MigrationRun;

/** Keeps the events of guarded runs that the reliability tests assert on. */
final class Events implements GuardListener {

    final List<List<Blocker>> detections = new CopyOnWriteArrayList<>();
    final List<BlockerReport> reports = new CopyOnWriteArrayList<>();
    final List<LockTimeoutEvent> lockTimeouts = new CopyOnWriteArrayList<>();
    final List<MigrationRun> runs = new CopyOnWriteArrayList<>();
    final List<Exception> failures = new CopyOnWriteArrayList<>();
    final List<String> migrationsStarted = new CopyOnWriteArrayList<>();

    @Override
    public void migrationStarted(int backendPid, String migration) {
        migrationsStarted.add(migration);
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
    public void lockTimeout(LockTimeoutEvent event) {
        lockTimeouts.add(event);
    }

    @Override
    public void runFinished(MigrationRun run) {
        runs.add(run);
    }

    @Override
    public void watcherFailed(Exception error) {
        failures.add(error);
    }

    List<BlockerReport> reports(BlockerOutcome outcome) {
        return reports.stream().filter((report) -> report.outcome() == outcome).toList();
    }

    /** The reports about one session. */
    List<BlockerReport> reportsFor(int pid) {
        return reports.stream().filter((report) -> report.blocker().pid() == pid).toList();
    }

    List<Integer> terminatedPids() {
        return reports(BlockerOutcome.TERMINATED).stream().map((report) -> report.blocker().pid()).toList();
    }

    /** Every pid the watcher ever saw, in a detection or a report. */
    List<Integer> pidsSeen() {
        return java.util.stream.Stream.concat(detections.stream().flatMap(List::stream),
                reports.stream().map(BlockerReport::blocker)).map(Blocker::pid).distinct().toList();
    }
}
