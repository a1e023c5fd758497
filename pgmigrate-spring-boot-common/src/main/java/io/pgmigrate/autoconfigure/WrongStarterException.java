package io.pgmigrate.autoconfigure;

/**
 * The application runs a Spring Boot generation that the pgmigrate starter on its classpath was not built for.
 * Thrown as soon as the application's environment is prepared, before any bean is created.
 */
class WrongStarterException extends RuntimeException {

    private static final long serialVersionUID = 1L;

    private final StarterGeneration starter;

    private final String bootVersion;

    WrongStarterException(StarterGeneration starter, String bootVersion) {
        super("pgmigrate: " + starter.starter() + " is built for " + starter.name()
                + ", but the application runs Spring Boot " + bootVersion);
        this.starter = starter;
        this.bootVersion = bootVersion;
    }

    /** The generation of the starter on the classpath. */
    StarterGeneration starter() {
        return this.starter;
    }

    /** The application's Spring Boot version. */
    String bootVersion() {
        return this.bootVersion;
    }
}
