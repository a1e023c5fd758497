package io.pgmigrate.core.internal;

import java.time.Duration;
import java.time.Instant;

import io.pgmigrate.core.Blocker;
import org.junit.jupiter.api.Test;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.entry;

/** The one way a blocker and its texts are written: escaping, one line, cutting, the order of the facts. */
class BlockerTextTest {

    @Test
    void aValueCannotEndEarlyAndForgeAnotherPairOrALine() {
        assertThat(BlockerText.value("report")).isEqualTo("report");
        assertThat(BlockerText.value("")).isEqualTo("\"\"");
        assertThat(BlockerText.value("x\" outcome=terminated")).isEqualTo("\"x\\\" outcome=terminated\"");
        assertThat(BlockerText.value("a\\b")).isEqualTo("\"a\\\\b\"");
        assertThat(BlockerText.value("SELECT 1\u2028WARN forged\u0085\r\nline")).isEqualTo(
                "\"SELECT 1 WARN forged line\"");
        StringBuilder line = new StringBuilder("fact:");
        BlockerText.append(line, "user", "app");
        BlockerText.append(line, "client", null);
        BlockerText.append(line, "application", "");
        BlockerText.append(line, "query", "SELECT\n  1");
        assertThat(line).hasToString("fact: user=app query=\"SELECT 1\"");
    }

    @Test
    void aCutCountsCharactersAsPostgresDoesAndNeverSplitsAnEmoji() {
        String emojis = "\uD83D\uDE00".repeat(5);
        assertThat(BlockerText.cut(emojis, 5)).isEqualTo(emojis);
        assertThat(BlockerText.cut(emojis, 3)).isEqualTo("\uD83D\uDE00".repeat(3) + "...");
        assertThat(BlockerText.cut("SELECT 1", 6)).isEqualTo("SELECT...");
        assertThat(BlockerText.cut(null, 6)).isNull();
    }

    @Test
    void theFactsOfABlockerComeInTheOrderOfTheLogLineAndLeaveOutWhatPostgresDidNotShow() {
        Blocker blocker = new Blocker(4711, 42, "app", "shop", "report", null, "idle in transaction",
                "SELECT * FROM orders", Instant.EPOCH, Instant.EPOCH, Duration.ofMillis(2500), null, "AccessShareLock",
                true, "public.orders", Duration.ofSeconds(1), null, Blocker.CLIENT_BACKEND, "relation", false);
        assertThat(BlockerText.fields(blocker)).containsExactly(
                entry("pid", 4711),
                entry("blocked_pid", 42),
                entry("user", "app"),
                entry("database", "shop"),
                entry("application", "report"),
                entry("backend_type", "client backend"),
                entry("state", "idle in transaction"),
                entry("age", "2.5s"),
                entry("lock", "AccessShareLock"),
                entry("lock_granted", true),
                entry("object", "public.orders"),
                entry("waited", "1s"),
                entry("query", "SELECT * FROM orders"));
        assertThat(BlockerText.line(blocker)).isEqualTo("pid=4711 user=app application=report "
                + "backend_type=\"client backend\" state=\"idle in transaction\" age=2.5s "
                + "query=\"SELECT * FROM orders\"");
        assertThat(BlockerText.sentence(blocker)).isEqualTo("pid 4711, user app, application report, "
                + "state idle in transaction, holding locks for 2.5s, holds AccessShareLock on public.orders, "
                + "query SELECT * FROM orders");
    }

    @Test
    void theExceptionLineAndTheSentenceUseTheSameFactsForAPreparedTransactionAndASystemProcess() {
        Blocker prepared = new Blocker(0, 42, null, "shop", null, null, null, null, Instant.EPOCH, null, null, null,
                "RowExclusiveLock", true, "public.orders", null, "nightly batch", null, "relation", false);
        assertThat(BlockerText.line(prepared)).isEqualTo("gid=\"nightly batch\" user=unknown application=unknown "
                + "state=unknown age=unknown query=unknown");
        assertThat(BlockerText.sentence(prepared)).isEqualTo("prepared transaction 'nightly batch', "
                + "holds RowExclusiveLock on public.orders");
        Blocker autovacuum = new Blocker(99, 42, null, "shop", null, null, "active",
                "autovacuum: VACUUM public.orders (to prevent wraparound)\n", Instant.EPOCH, Instant.EPOCH,
                Duration.ofSeconds(3), null, "ShareUpdateExclusiveLock", true, "public.orders", null, null,
                "autovacuum worker", "relation", false);
        assertThat(BlockerText.sentence(autovacuum)).isEqualTo("pid 99, backend type autovacuum worker, state active, "
                + "holding locks for 3s, holds ShareUpdateExclusiveLock on public.orders, "
                + "query autovacuum: VACUUM public.orders (to prevent wraparound)");
        assertThat(BlockerText.sentence(new Blocker(7, 42, "app", null, null, null, "active", "x".repeat(300),
                Instant.EPOCH, null, null, null, null, false, null, null, null, Blocker.CLIENT_BACKEND, null, false)))
            .endsWith(", query " + "x".repeat(200) + "...");
    }
}
