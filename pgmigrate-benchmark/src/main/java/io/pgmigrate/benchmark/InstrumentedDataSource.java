package io.pgmigrate.benchmark;

import java.lang.reflect.InvocationHandler;
import java.lang.reflect.Method;
import java.lang.reflect.Proxy;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.util.ArrayList;
import java.util.List;

import javax.sql.DataSource;

import io.pgmigrate.testsupport.ForwardingDataSource;

/**
 * A DataSource that times every statement sent through its connections, from the call that executes it to
 * the close of its result (all rows fetched). The watcher gets one, so its polls can be timed from outside
 * the engine without touching it.
 */
final class InstrumentedDataSource extends ForwardingDataSource {

    /** What a statement does, told apart by the SQL text. */
    enum Kind {
        /** The first statement of every poll: which watched backends have a blocker at all (BlockerQuery). */
        CHECK,
        /** The watcher's full blocker query, run when the check found a blocked backend (BlockerQuery). */
        FIND,
        /** The watcher's terminate statement (BlockerRules). */
        TERMINATE,
        /** Anything else: session settings, arrays, validation. */
        OTHER;

        static Kind of(String sql) {
            if (sql.contains("CROSS JOIN LATERAL unnest(pg_blocking_pids(w.pid))")) {
                return FIND;
            }
            if (sql.contains("pg_blocking_pids(w.pid)")) {
                return CHECK;
            }
            if (sql.contains("pg_terminate_backend")) {
                return TERMINATE;
            }
            return OTHER;
        }
    }

    /**
     * One executed statement.
     * @param kind what it was
     * @param startNanos {@link System#nanoTime()} when it was sent
     * @param durationNanos until its result was closed
     */
    record Sample(Kind kind, long startNanos, long durationNanos) {
    }

    /**
     * The duration of each poll in the samples, in milliseconds: a check, plus the full query that followed it when
     * the check found a blocked backend. The warm-up's statements, before the first check of a poll, are left out.
     */
    static List<Double> pollMillis(List<Sample> samples) {
        List<Double> polls = new ArrayList<>();
        for (Sample sample : samples) {
            if (sample.kind() == Kind.CHECK) {
                polls.add(sample.durationNanos() / 1e6);
            }
            else if (sample.kind() == Kind.FIND && !polls.isEmpty()) {
                polls.set(polls.size() - 1, polls.get(polls.size() - 1) + sample.durationNanos() / 1e6);
            }
        }
        return polls;
    }

    private final List<Sample> samples = new ArrayList<>();

    InstrumentedDataSource(DataSource target) {
        super(target);
    }

    /** Samples recorded since the last {@link #clear()}. */
    synchronized List<Sample> samples() {
        return List.copyOf(samples);
    }

    /** Forgets the samples recorded so far. */
    synchronized void clear() {
        samples.clear();
    }

    private synchronized void record(Kind kind, long start) {
        samples.add(new Sample(kind, start, System.nanoTime() - start));
    }

    @Override
    protected Connection wrap(Connection connection) {
        return proxy(Connection.class, connection, (method, args) -> {
            Object result = invoke(method, connection, args);
            if (result instanceof PreparedStatement statement && args != null && args[0] instanceof String sql) {
                return wrap(statement, Kind.of(sql));
            }
            return result;
        });
    }

    private PreparedStatement wrap(PreparedStatement statement, Kind kind) {
        return proxy(PreparedStatement.class, statement, (method, args) -> {
            String name = method.getName();
            if (!name.startsWith("execute")) {
                return invoke(method, statement, args);
            }
            long start = System.nanoTime();
            Object result = invoke(method, statement, args);
            if (result instanceof ResultSet rows) {
                return proxy(ResultSet.class, rows, (rowsMethod, rowsArgs) -> {
                    if (rowsMethod.getName().equals("close")) {
                        record(kind, start);
                    }
                    return invoke(rowsMethod, rows, rowsArgs);
                });
            }
            record(kind, start);
            return result;
        });
    }

    private interface Handler {
        Object handle(Method method, Object[] args) throws Throwable;
    }

    private static <T> T proxy(Class<T> type, T target, Handler handler) {
        InvocationHandler invocation = (proxy, method, args) -> {
            if (method.getDeclaringClass() == Object.class) {
                return switch (method.getName()) {
                    case "equals" -> proxy == args[0];
                    case "hashCode" -> System.identityHashCode(proxy);
                    default -> method.invoke(target, args);
                };
            }
            return handler.handle(method, args);
        };
        return type.cast(Proxy.newProxyInstance(InstrumentedDataSource.class.getClassLoader(),
                new Class<?>[] {type}, invocation));
    }
}
