package io.pgmigrate.core.internal;

import java.util.List;
import java.util.Set;

import io.pgmigrate.core.WatchSettings;
import org.junit.jupiter.api.Test;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatIllegalArgumentException;

/** Exclusions written in the configuration, turned into the names PostgreSQL shows. */
class SessionNamesTest {

    @Test
    void rolesAreReadAsSqlReadsThem() {
        assertThat(SessionNames.role("Reporting")).isEqualTo("reporting");
        assertThat(SessionNames.role("\"Reporting\"")).isEqualTo("Reporting");
        assertThat(SessionNames.role("\"say \"\"hi\"\"\"")).isEqualTo("say \"hi\"");
        assertThat(SessionNames.role("  app_user ")).isEqualTo("app_user");
        assertThat(SessionNames.role("a".repeat(70))).hasSize(63);
    }

    @Test
    void applicationNamesAreCutAndCleanedAsPostgresqlStoresThem() {
        assertThat(SessionNames.applicationName("pg_dump")).containsExactly("pg_dump");
        assertThat(SessionNames.applicationName("x".repeat(80))).containsExactly("x".repeat(63));
        // é is two bytes in UTF-8: PostgreSQL 14 and 15 show each as ?, PostgreSQL 16 and later as \xNN
        assertThat(SessionNames.applicationName("café")).containsExactlyInAnyOrder("caf??", "caf\\xc3\\xa9");
    }

    @Test
    void blankNamesAreRejected() {
        assertThatIllegalArgumentException()
            .isThrownBy(() -> SessionNames.requireNames(List.of("pg_dump", " "), "exclude-application-names"))
            .withMessageContaining("exclude-application-names");
        assertThatIllegalArgumentException()
            .isThrownBy(() -> WatchSettings.defaults().withExcludedUsers(Set.of("")))
            .withMessageContaining("exclude-users");
    }

    @Test
    void settingsKeepTheNamesAsWrittenSoCopiesDoNotFoldThemAgain() {
        WatchSettings settings = WatchSettings.defaults().withExcludedUsers(Set.of("\"Mixed\""));
        assertThat(settings.withPollInterval(java.time.Duration.ofSeconds(1)).excludedUsers())
            .containsExactly("\"Mixed\"");
        assertThat(new BlockerRules(settings).excludedUsers()).containsExactly("Mixed");
    }
}
