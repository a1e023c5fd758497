package io.pgmigrate.benchmark;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * CPU time of a PostgreSQL backend process, read from {@code /proc/<pid>/stat}. Works only when the server
 * runs on this machine (the embedded server does); elsewhere {@link #read} answers {@code -1}.
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

    /** User plus system CPU time of the process, in nanoseconds, or {@code -1} when it cannot be read. */
    static long read(int pid) {
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
