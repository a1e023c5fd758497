package io.pgmigrate.benchmark;

import java.io.IOException;
import java.io.PrintWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.DriverManager;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Properties;

/**
 * The application's load in a JVM of its own, for the cold-start scenario: started by the runner, it reads the
 * table on {@link AppLoad}'s fixed schedule until its standard input closes, then writes every query to a file,
 * one line each: the {@link System#nanoTime()} it was due, its latency in nanoseconds from then, and 1 when it
 * failed.
 * <p>
 * Arguments: JDBC URL, user, password, table, rows, threads, period (ms), statement timeout (ms), output file.
 */
final class LoadProcess {

    /** The line it prints once every thread is connected and the load runs. */
    static final String READY = "load running";

    private LoadProcess() {
    }

    public static void main(String[] args) throws Exception {
        String url = args[0];
        Properties login = new Properties();
        login.setProperty("user", args[1]);
        login.setProperty("password", args[2]);
        login.setProperty("ApplicationName", "bench-app");
        AppLoad load = new AppLoad(() -> DriverManager.getConnection(url, login), args[3], Integer.parseInt(args[4]),
                Integer.parseInt(args[5]), Duration.ofMillis(Long.parseLong(args[6])),
                Duration.ofMillis(Long.parseLong(args[7])));
        load.start();
        System.out.println(READY);
        System.out.flush();
        while (System.in.read() >= 0) {
            // runs until the runner closes its input
        }
        load.close();
        write(load.queries(), Path.of(args[8]));
        System.exit(0);
    }

    private static void write(List<AppLoad.Query> queries, Path file) throws IOException {
        try (PrintWriter out = new PrintWriter(Files.newBufferedWriter(file))) {
            for (AppLoad.Query query : queries) {
                out.println(query.intendedNanos() + " " + query.latencyNanos() + " " + (query.failed() ? 1 : 0));
            }
        }
    }

    /** Reads what {@link #main} wrote. */
    static List<AppLoad.Query> read(Path file) throws IOException {
        List<AppLoad.Query> queries = new ArrayList<>();
        for (String line : Files.readAllLines(file)) {
            String[] fields = line.split(" ");
            queries.add(new AppLoad.Query(Long.parseLong(fields[0]), Long.parseLong(fields[1]),
                    "1".equals(fields[2])));
        }
        return queries;
    }
}
