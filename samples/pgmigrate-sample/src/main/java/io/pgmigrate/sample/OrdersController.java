package io.pgmigrate.sample;

import java.util.Map;

import org.springframework.jdbc.core.JdbcTemplate;
import org.springframework.web.bind.annotation.GetMapping;
import org.springframework.web.bind.annotation.RestController;

/** The application's one endpoint: it reads the table the migrations change. */
@RestController
class OrdersController {

    private final JdbcTemplate jdbc;

    OrdersController(JdbcTemplate jdbc) {
        this.jdbc = jdbc;
    }

    @GetMapping("/orders/summary")
    Map<String, Object> summary() {
        return jdbc.queryForMap("SELECT count(*) AS orders, sum(total) AS revenue FROM orders");
    }
}
