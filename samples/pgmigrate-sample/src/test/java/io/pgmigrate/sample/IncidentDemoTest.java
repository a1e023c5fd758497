package io.pgmigrate.sample;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

import org.springframework.boot.test.system.CapturedOutput;
import org.springframework.boot.test.system.OutputCaptureExtension;

/** The demo the README shows: the blocked migration is rescued and the application barely waits. */
@ExtendWith(OutputCaptureExtension.class)
class IncidentDemoTest {

    @Test
    void theGuardTerminatesTheReportAndNoApplicationQueryFails(CapturedOutput output) throws Exception {
        IncidentDemo.main(new String[0]);

        assertThat(output).containsPattern("pgmigrate: migrating as PostgreSQL backend pid \\d+")
            .containsPattern("WARN .*pgmigrate: Terminated a session blocking migration 2 \\(add order note\\): "
                    + "outcome=terminated pid=\\d+ .*application=nightly-report .*state=\"idle in transaction\"")
            .containsPattern("demo: application started in .*; application queries: \\d+ run, 0 failed, "
                    + "longest wait \\d+ ms; the report was terminated");
    }

    @Test
    void withoutTheGuardTheApplicationWaitsForTheReport(CapturedOutput output) throws Exception {
        IncidentDemo.main(new String[] { "--pgmigrate.enabled=false", "--demo.report-hold=3s" });

        assertThat(output).doesNotContain("pgmigrate: Terminated")
            .containsPattern("longest wait \\d{4,} ms; the report finished on its own");
    }
}
