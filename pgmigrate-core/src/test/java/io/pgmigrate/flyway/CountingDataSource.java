package io.pgmigrate.flyway;

import java.lang.reflect.Proxy;
import java.sql.Connection;
import java.util.concurrent.atomic.AtomicInteger;

import javax.sql.DataSource;

import io.pgmigrate.testsupport.ForwardingDataSource;

/** Counts the connections handed out and those still open. */
final class CountingDataSource extends ForwardingDataSource {

    final AtomicInteger opened = new AtomicInteger();
    final AtomicInteger open = new AtomicInteger();

    CountingDataSource(DataSource delegate) {
        super(delegate);
    }

    @Override
    protected Connection wrap(Connection connection) {
        opened.incrementAndGet();
        open.incrementAndGet();
        boolean[] closed = { false };
        return (Connection) Proxy.newProxyInstance(getClass().getClassLoader(), new Class<?>[] { Connection.class },
                (proxy, method, args) -> {
                    if (method.getName().equals("close")) {
                        synchronized (closed) {
                            if (!closed[0]) {
                                closed[0] = true;
                                open.decrementAndGet();
                            }
                        }
                    }
                    return invoke(method, connection, args);
                });
    }
}
