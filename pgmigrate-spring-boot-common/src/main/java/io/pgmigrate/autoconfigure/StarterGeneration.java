package io.pgmigrate.autoconfigure;

/**
 * A Spring Boot generation and the pgmigrate starter built for it: where that generation keeps its Flyway support,
 * and what an application adds to have it.
 *
 * @param major Spring Boot's major version
 * @param starter the artifact id of pgmigrate's starter for it
 * @param flywayAutoConfiguration the class name of the generation's {@code FlywayAutoConfiguration}
 * @param flywaySupport the dependencies that bring the generation's Flyway support, in the user's words
 */
record StarterGeneration(int major, String starter, String flywayAutoConfiguration, String flywaySupport) {

    static final StarterGeneration SPRING_BOOT_3 = new StarterGeneration(3, "pgmigrate-spring-boot3-starter",
            "org.springframework.boot.autoconfigure.flyway.FlywayAutoConfiguration",
            "org.flywaydb:flyway-core with spring-boot-starter-jdbc");

    static final StarterGeneration SPRING_BOOT_4 = new StarterGeneration(4, "pgmigrate-spring-boot-starter",
            "org.springframework.boot.flyway.autoconfigure.FlywayAutoConfiguration",
            "org.springframework.boot:spring-boot-starter-flyway");

    /** The generation of the given Spring Boot major version, or {@code null} when pgmigrate has no starter for it. */
    static StarterGeneration of(int major) {
        return switch (major) {
            case 3 -> SPRING_BOOT_3;
            case 4 -> SPRING_BOOT_4;
            default -> null;
        };
    }

    /** The major version at the start of a Spring Boot version ("3.5.7" is 3), or -1 when there is none. */
    static int majorOf(String version) {
        int end = 0;
        while (version != null && end < version.length() && Character.isDigit(version.charAt(end))) {
            end++;
        }
        return (end > 0 && end < 10) ? Integer.parseInt(version.substring(0, end)) : -1;
    }

    /** How the generation is called, for people: "Spring Boot 3.5", "Spring Boot 4". */
    String name() {
        return (this.major == 3) ? "Spring Boot 3.5" : "Spring Boot " + this.major;
    }
}
