package io.pgmigrate.autoconfigure;

import javax.sql.DataSource;

import com.zaxxer.hikari.HikariDataSource;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.postgresql.ds.PGSimpleDataSource;

import org.springframework.boot.test.system.CapturedOutput;
import org.springframework.boot.test.system.OutputCaptureExtension;
import org.springframework.jdbc.datasource.DelegatingDataSource;
import org.springframework.jdbc.datasource.SimpleDriverDataSource;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * The watcher's DataSource in Spring Boot: unpooled, with the URL, user and password of Flyway's, and Flyway's own
 * after a WARN when they cannot be read. No database needed: nothing connects.
 */
@ExtendWith(OutputCaptureExtension.class)
class WatcherDataSourcesTests {

    private static final String URL = "jdbc:postgresql://db.internal:5432/shop?sslmode=require";

    @Test
    void fromTheApplicationsHikariPoolAnUnpooledDataSourceWithItsUrlUserAndPassword(CapturedOutput output) {
        try (HikariDataSource pool = hikari()) {
            DataSource watcher = WatcherDataSources.derivedFrom(pool);

            assertUnpooledCopy(watcher);
            assertThat(output).doesNotContain("pgmigrate:");
        }
    }

    @Test
    void throughAProxyTheDataSourceItWraps() {
        try (HikariDataSource pool = hikari()) {
            assertUnpooledCopy(WatcherDataSources.derivedFrom(new DelegatingDataSource(pool)));
        }
    }

    @Test
    void fromSpringFlywayUrlsUnpooledDataSourceACopyOfIt() {
        SimpleDriverDataSource flyway = new SimpleDriverDataSource(new org.postgresql.Driver(), URL, "migrator",
                "secret");

        DataSource watcher = WatcherDataSources.derivedFrom(flyway);

        assertThat(watcher).isNotSameAs(flyway);
        assertUnpooledCopy(watcher);
    }

    @Test
    void aPoolThatShowsNoUrlLeavesTheWatcherOnFlywaysDataSourceAfterAWarning(CapturedOutput output) {
        PGSimpleDataSource target = new PGSimpleDataSource();
        target.setUrl(URL);
        try (HikariDataSource pool = new HikariDataSource()) {
            pool.setDataSource(target);

            assertThat(WatcherDataSources.derivedFrom(pool)).isSameAs(pool);
            assertThat(output).contains("WARN")
                .contains("pgmigrate: could not make the watcher a DataSource of its own from Flyway's DataSource")
                .contains("FlywayGuard.withWatcherDataSource")
                .contains("datasource=com.zaxxer.hikari.HikariDataSource");
        }
    }

    private static HikariDataSource hikari() {
        HikariDataSource pool = new HikariDataSource();
        pool.setJdbcUrl(URL);
        pool.setUsername("migrator");
        pool.setPassword("secret");
        pool.setMaximumPoolSize(2);
        return pool;
    }

    private static void assertUnpooledCopy(DataSource watcher) {
        assertThat(watcher).isInstanceOf(SimpleDriverDataSource.class);
        SimpleDriverDataSource unpooled = (SimpleDriverDataSource) watcher;
        assertThat(unpooled.getUrl()).isEqualTo(URL);
        assertThat(unpooled.getUsername()).isEqualTo("migrator");
        assertThat(unpooled.getPassword()).isEqualTo("secret");
        assertThat(unpooled.getDriver()).isInstanceOf(org.postgresql.Driver.class);
    }
}
