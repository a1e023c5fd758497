package io.pgmigrate.benchmark.coldapp;

import java.lang.management.ManagementFactory;
import java.util.List;
import java.util.concurrent.atomic.AtomicBoolean;

import io.pgmigrate.core.Blocker;
import io.pgmigrate.core.BlockerOutcome;
import io.pgmigrate.core.BlockerReport;
import io.pgmigrate.core.GuardListener;
import org.flywaydb.core.api.callback.Callback;
import org.flywaydb.core.api.callback.Context;
import org.flywaydb.core.api.callback.Event;
import org.springframework.boot.WebApplicationType;
import org.springframework.boot.autoconfigure.SpringBootApplication;
import org.springframework.boot.builder.SpringApplicationBuilder;
import org.springframework.context.ConfigurableApplicationContext;
import org.springframework.context.annotation.Bean;

/**
 * The cold-start scenario's application: a small Spring Boot application with the pgmigrate starter, as a user
 * has it (Boot's auto-configuration, HikariCP, actuator), started in a fresh JVM by the runner with its settings
 * as command-line properties. It applies its migrations at start-up, prints when each step of the migration
 * happened ({@link System#nanoTime()}, comparable across the JVMs of one Linux machine) and its start-up cost,
 * then exits.
 */
@SpringBootApplication(proxyBeanMethods = false)
public class ColdApp {

    /** The start of every line the runner reads: {@code pgmigrate-bench <phase> <nanoTime> [detail]}. */
    public static final String PREFIX = "pgmigrate-bench ";

    /** The phase printed when Flyway is about to send the migration's {@code ALTER TABLE} statement. */
    public static final String ALTER_STATEMENT = "alterStatement";

    static void phase(String name, String detail) {
        long now = System.nanoTime();
        System.out.println(PREFIX + name + " " + now + (detail.isEmpty() ? "" : " " + detail));
    }

    public static void main(String[] args) {
        ConfigurableApplicationContext context = new SpringApplicationBuilder(ColdApp.class)
            .web(WebApplicationType.NONE)
            .run(args);
        long cpu = ((com.sun.management.OperatingSystemMXBean) ManagementFactory.getOperatingSystemMXBean())
            .getProcessCpuTime();
        long uptime = ManagementFactory.getRuntimeMXBean().getUptime();
        phase("ready", "cpuNanos=" + cpu + " uptimeMillis=" + uptime);
        context.close();
        System.exit(0);
    }

    /** Flyway's own steps: its run, and the migration's statement (the lock wait starts with it). */
    @Bean
    Callback benchmarkPhases() {
        return new Callback() {
            @Override
            public boolean supports(Event event, Context context) {
                return event == Event.BEFORE_MIGRATE || event == Event.BEFORE_EACH_MIGRATE
                        || event == Event.BEFORE_EACH_MIGRATE_STATEMENT || event == Event.AFTER_EACH_MIGRATE
                        || event == Event.AFTER_MIGRATE;
            }

            @Override
            public boolean canHandleInTransaction(Event event, Context context) {
                return true;
            }

            @Override
            public void handle(Event event, Context context) {
                if (event != Event.BEFORE_EACH_MIGRATE_STATEMENT) {
                    phase(event.getId(), "");
                }
                else if (context.getStatement() != null && context.getStatement().getSql().strip()
                    .regionMatches(true, 0, "ALTER TABLE", 0, 11)) {
                    // the statement that waits for the lock: the application's stall can start here at the earliest
                    phase(ALTER_STATEMENT, "");
                }
            }

            @Override
            public String getCallbackName() {
                return "pgmigrate-benchmark-phases";
            }
        };
    }

    /** pgmigrate's steps: the blocker seen, the signal sent. */
    @Bean
    GuardListener benchmarkGuardPhases() {
        AtomicBoolean detected = new AtomicBoolean();
        return new GuardListener() {
            @Override
            public void blockersDetected(List<Blocker> blockers) {
                if (detected.compareAndSet(false, true)) {
                    phase("detected", "");
                }
            }

            @Override
            public void blockerHandled(BlockerReport report) {
                if (report.outcome() == BlockerOutcome.TERMINATED) {
                    phase("signalled", "");
                }
            }
        };
    }
}
