package io.pgmigrate.testsupport;

import java.util.Locale;
import java.util.concurrent.atomic.AtomicInteger;

import org.junit.jupiter.api.extension.AfterAllCallback;
import org.junit.jupiter.api.extension.AfterEachCallback;
import org.junit.jupiter.api.extension.BeforeAllCallback;
import org.junit.jupiter.api.extension.ExtensionContext;
import org.junit.jupiter.api.extension.ParameterContext;
import org.junit.jupiter.api.extension.ParameterResolver;

/**
 * Gives each test class a fresh {@link TestDatabase} on the shared {@link PostgresServer}, injected as a
 * parameter of test methods, lifecycle methods or constructors. Sessions a test opened are closed, and
 * any backend left in the database is terminated, after each test.
 */
public final class PostgresExtension implements BeforeAllCallback, AfterEachCallback, AfterAllCallback,
        ParameterResolver {

    private static final ExtensionContext.Namespace NAMESPACE = ExtensionContext.Namespace
        .create(PostgresExtension.class);

    private static final AtomicInteger counter = new AtomicInteger();

    @Override
    public void beforeAll(ExtensionContext context) throws Exception {
        String name = "t" + ProcessHandle.current().pid() + "_" + counter.incrementAndGet() + "_"
                + context.getRequiredTestClass().getSimpleName().toLowerCase(Locale.ROOT);
        name = name.length() > 40 ? name.substring(0, 40) : name;
        context.getStore(NAMESPACE).put(TestDatabase.class, TestDatabase.create(PostgresServer.shared(), name));
    }

    @Override
    public void afterEach(ExtensionContext context) throws Exception {
        database(context).afterEach();
    }

    @Override
    public void afterAll(ExtensionContext context) throws Exception {
        database(context).drop();
    }

    @Override
    public boolean supportsParameter(ParameterContext parameter, ExtensionContext context) {
        return parameter.getParameter().getType() == TestDatabase.class;
    }

    @Override
    public Object resolveParameter(ParameterContext parameter, ExtensionContext context) {
        return database(context);
    }

    private static TestDatabase database(ExtensionContext context) {
        ExtensionContext current = context;
        while (current != null) {
            TestDatabase database = current.getStore(NAMESPACE).get(TestDatabase.class, TestDatabase.class);
            if (database != null) {
                return database;
            }
            current = current.getParent().orElse(null);
        }
        throw new IllegalStateException("No test database: is the class annotated with @PostgresTest?");
    }
}
