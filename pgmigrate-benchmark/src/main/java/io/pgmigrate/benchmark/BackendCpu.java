package io.pgmigrate.benchmark;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * CPU time of a PostgreSQL backend process, read from {@code /proc/<pid>/schedstat} (nanoseconds on a CPU) where
 * the kernel keeps it, else from {@code /proc/<pid>/stat} (clock ticks of 10 ms, too coarse for a backend that
 * runs a fraction of a percent). A backend is one process of one thread, so both are the backend's own. Works only
 * when the server runs on this machine (the embedded server does); elsewhere {@link #read} answers {@code -1}.
 */
final class BackendCpu {

    /** Linux reports utime and stime in clock ticks of 1/100 s on every platform Java runs on here. */
    private static final long NANOS_PER_TICK = 10_000_000L;

    private BackendCpu() {
    }

    /** Whether the process is a local PostgreSQL process we may read. */
    static boolean readable(int pid) {
        try {
            String command = Files.readString(Path.of("/proc", String.valueOf(pid), "cmdline"));
            return command.contains("postgres");
        }
        catch (IOException | RuntimeException ex) {
            return false;
        }
    }

    /** CPU time of the process, in nanoseconds, or {@code -1} when it cannot be read. */
    static long read(int pid) {
        try {
            String schedstat = Files.readString(Path.of("/proc", String.valueOf(pid), "schedstat")).strip();
            return Long.parseLong(schedstat.substring(0, schedstat.indexOf(' ')));
        }
        catch (IOException | RuntimeException ex) {
            return fromStat(pid);
        }
    }

    /** User plus system CPU time of the process from its clock ticks, in nanoseconds, or {@code -1}. */
    private static long fromStat(int pid) {
        try {
            String stat = Files.readString(Path.of("/proc", String.valueOf(pid), "stat"));
            // the command name in parentheses may hold spaces: fields are counted after its closing ')'
            String[] fields = stat.substring(stat.lastIndexOf(')') + 2).split(" ");
            long utime = Long.parseLong(fields[11]);
            long stime = Long.parseLong(fields[12]);
            return (utime + stime) * NANOS_PER_TICK;
        }
        catch (IOException | RuntimeException ex) {
            return -1;
        }
    }
}
