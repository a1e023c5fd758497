package io.pgmigrate.autoconfigure;

/**
 * The start-up checks of the Spring Boot 4 starter ({@link StartupCheck}), registered in this module's
 * {@code spring.factories}.
 */
final class SpringBoot4StartupCheck extends StartupCheck {

    SpringBoot4StartupCheck() {
        super(StarterGeneration.SPRING_BOOT_4);
    }
}
