package io.pgmigrate.core;

import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;

/** Keeps every event a watcher emits, in order, for assertions. */
final class RecordingListener implements GuardListener {

    final List<List<Blocker>> detections = new CopyOnWriteArrayList<>();
    final List<BlockerReport> reports = new CopyOnWriteArrayList<>();
    final List<Exception> failures = new CopyOnWriteArrayList<>();
    /** detections and reports interleaved as they happened: "detected:N" or "PID:OUTCOME". */
    final List<String> sequence = new CopyOnWriteArrayList<>();

    @Override
    public void blockersDetected(List<Blocker> blockers) {
        detections.add(blockers);
        sequence.add("detected:" + blockers.size());
    }

    @Override
    public void blockerHandled(BlockerReport report) {
        reports.add(report);
        sequence.add(report.blocker().pid() + ":" + report.outcome());
    }

    @Override
    public void watcherFailed(Exception error) {
        failures.add(error);
        sequence.add("failed");
    }

    List<BlockerReport> reports(BlockerOutcome outcome) {
        return reports.stream().filter((report) -> report.outcome() == outcome).toList();
    }

    List<BlockerReport> reportsFor(int pid) {
        return reports.stream().filter((report) -> report.blocker().pid() == pid).toList();
    }

    boolean has(int pid, BlockerOutcome outcome) {
        return reports.stream().anyMatch((r) -> r.blocker().pid() == pid && r.outcome() == outcome);
    }
}
