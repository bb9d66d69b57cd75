package dev.sportsfeat.udfs;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;
import java.io.IOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * A Confluent-API registry on 127.0.0.1, under {@code /ccompat}, that serves {@code GET
 * /schemas/ids/{id}} and {@code GET /schemas/types}.
 */
final class StubRegistry implements AutoCloseable {
    final Map<Integer, String> schemas = new ConcurrentHashMap<>();
    final AtomicInteger requests = new AtomicInteger();
    /** The requests with these numbers (the first is 1) answer 503. */
    final Set<Integer> failing = ConcurrentHashMap.newKeySet();

    private final HttpServer server;

    StubRegistry() throws IOException {
        server = HttpServer.create(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0), 0);
        server.createContext("/ccompat/schemas/ids/", this::handle);
        server.createContext("/ccompat/schemas/types", this::handle);
        server.start();
    }

    String url() {
        return "http://127.0.0.1:" + server.getAddress().getPort() + "/ccompat";
    }

    private void handle(HttpExchange exchange) throws IOException {
        String path = exchange.getRequestURI().getPath();
        if (failing.contains(requests.incrementAndGet())) {
            reply(exchange, 503, "{\"error_code\":50301,\"message\":\"unavailable\"}");
            return;
        }
        if (path.endsWith("/types")) {
            reply(exchange, 200, "[\"JSON\",\"PROTOBUF\",\"AVRO\"]");
            return;
        }
        String schema = schemas.get(Integer.parseInt(path.substring(path.lastIndexOf('/') + 1)));
        if (schema == null) {
            reply(exchange, 404, "{\"error_code\":40403,\"message\":\"Schema not found\"}");
        } else {
            reply(exchange, 200, new ObjectMapper().writeValueAsString(Map.of("schema", schema)));
        }
    }

    private static void reply(HttpExchange exchange, int status, String body) throws IOException {
        byte[] bytes = body.getBytes(StandardCharsets.UTF_8);
        exchange.sendResponseHeaders(status, bytes.length);
        try (var out = exchange.getResponseBody()) {
            out.write(bytes);
        }
    }

    @Override
    public void close() {
        server.stop(0);
    }
}
