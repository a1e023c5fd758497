package io.pgmigrate.autoconfigure;

/**
 * The start-up checks of the Spring Boot 3.5 starter ({@link StartupCheck}), registered in this module's
 * {@code spring.factories}.
 */
final class SpringBoot3StartupCheck extends StartupCheck {

    SpringBoot3StartupCheck() {
        super(StarterGeneration.SPRING_BOOT_3);
    }
}
