package dev.sportsfeat.udfs.avro;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.io.InputStream;
import java.net.HttpURLConnection;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;

/**
 * Writer schemas by id from a Confluent-API registry ({@code GET {url}/schemas/ids/{id}}),
 * cached forever (ids are immutable), one instance per URL in the JVM ({@link #of}). An id the
 * registry does not know is remembered for {@link #UNKNOWN_TTL_MS}, so a burst of garbage does
 * not become a burst of requests. Before the first 404 counts as an unknown id, the base URL is
 * checked once ({@code GET {url}/schemas/types} must answer 200 with a JSON list): a wrong base
 * URL fails the job instead of dead-lettering every record.
 *
 * <p>An unreachable registry or a 5xx is retried with exponential backoff (200 ms doubling to
 * 5 s) for up to {@code maxWaitMs}; then {@link RegistryUnavailableException}. Any other
 * unexpected answer (401, 403, 400, a body without a schema) fails at once: neither is bad data.
 * Plain HttpURLConnection: no client threads to outlive a job's class loader.
 */
public final class SchemaRegistry {
    static final long UNKNOWN_TTL_MS = 30_000;
    private static final long MAX_WAIT_MS = 60_000;
    private static final int UNKNOWN_MAX = 1024;
    private static final long FIRST_BACKOFF_MS = 200;
    private static final long MAX_BACKOFF_MS = 5_000;
    private static final int TIMEOUT_MS = 5_000;
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final Map<String, SchemaRegistry> BY_URL = new ConcurrentHashMap<>();

    private final String url;
    private final long maxWaitMs;
    private final Map<Integer, String> schemas = new ConcurrentHashMap<>();
    private final Map<Integer, Long> unknownUntil =
            new LinkedHashMap<>(16, 0.75f, true) {
                @Override
                protected boolean removeEldestEntry(Map.Entry<Integer, Long> eldest) {
                    return size() > UNKNOWN_MAX;
                }
            };
    private volatile boolean baseUrlChecked;

    /** A registry client of its own; {@link #of} shares one per URL. */
    public SchemaRegistry(String url, long maxWaitMs) {
        this.url = normalize(url);
        this.maxWaitMs = maxWaitMs;
    }

    /** The JVM's client of {@code url}, retrying for up to 60 s: all its users share its cache. */
    public static SchemaRegistry of(String url) {
        return BY_URL.computeIfAbsent(normalize(url), u -> new SchemaRegistry(u, MAX_WAIT_MS));
    }

    private static String normalize(String url) {
        return url.endsWith("/") ? url.substring(0, url.length() - 1) : url;
    }

    public String url() {
        return url;
    }

    /** The schema text registered under {@code id}, or null if the registry does not know it. */
    public String schemaText(int id) {
        String known = schemas.get(id);
        if (known != null) {
            return known;
        }
        synchronized (unknownUntil) {
            Long until = unknownUntil.get(id);
            if (until != null && System.currentTimeMillis() < until) {
                return null;
            }
        }
        String fetched = withRetries("fetching schema id " + id, () -> fetch(id));
        if (fetched == null) {
            if (!baseUrlChecked) {
                withRetries("checking its base URL", () -> {
                    checkBaseUrl();
                    return null;
                });
                baseUrlChecked = true;
            }
            synchronized (unknownUntil) {
                unknownUntil.put(id, System.currentTimeMillis() + UNKNOWN_TTL_MS);
            }
        } else {
            schemas.put(id, fetched);
        }
        return fetched;
    }

    /** A request: IOException for what is worth retrying. */
    private interface Request<T> {
        T send() throws IOException;
    }

    private <T> T withRetries(String what, Request<T> request) {
        long start = System.currentTimeMillis();
        long backoff = FIRST_BACKOFF_MS;
        while (true) {
            String cause;
            try {
                return request.send();
            } catch (IOException e) {
                cause = e.toString();
            }
            long waited = System.currentTimeMillis() - start;
            if (waited + backoff > maxWaitMs) {
                throw new RegistryUnavailableException(
                        String.format(
                                "schema registry %s unavailable for %d ms (max %d) while %s: %s",
                                url, waited, maxWaitMs, what, cause));
            }
            try {
                Thread.sleep(backoff);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new RegistryUnavailableException(
                        "interrupted while waiting for schema registry " + url + ": " + cause);
            }
            backoff = Math.min(backoff * 2, MAX_BACKOFF_MS);
        }
    }

    /** The schema, or null on 404. */
    private String fetch(int id) throws IOException {
        Reply reply = get("/schemas/ids/" + id);
        if (reply.status() == 404) {
            return null;
        }
        JsonNode schema = reply.status() == 200 ? JSON.readTree(reply.body()).get("schema") : null;
        if (schema == null || !schema.isTextual()) {
            throw new RegistryUnavailableException("schema registry: " + reply);
        }
        return schema.asText();
    }

    private void checkBaseUrl() throws IOException {
        Reply reply = get("/schemas/types");
        if (reply.status() != 200 || !isJsonList(reply.body())) {
            throw new RegistryUnavailableException(
                    "schema registry base URL " + url + " looks wrong: a schema id was not found"
                            + " and " + reply + " (expected 200 with a JSON list of schema types)");
        }
    }

    private static boolean isJsonList(String body) {
        try {
            return JSON.readTree(body).isArray();
        } catch (JsonProcessingException e) {
            return false;
        }
    }

    private record Reply(String endpoint, int status, String body) {
        @Override
        public String toString() {
            String shown = body.length() > 300 ? body.substring(0, 300) + "..." : body;
            return "GET " + endpoint + " answered HTTP " + status + ": " + shown;
        }
    }

    /** One GET of {@code url + path}; IOException when unreachable or on a 5xx. */
    private Reply get(String path) throws IOException {
        String endpoint = url + path;
        HttpURLConnection http = (HttpURLConnection) URI.create(endpoint).toURL().openConnection();
        http.setConnectTimeout(TIMEOUT_MS);
        http.setReadTimeout(TIMEOUT_MS);
        http.setRequestProperty("Accept", "application/vnd.schemaregistry.v1+json, application/json");
        try {
            int status = http.getResponseCode();
            if (status >= 500) {
                throw new IOException("HTTP " + status + " from " + endpoint);
            }
            InputStream body = status < 400 ? http.getInputStream() : http.getErrorStream();
            return new Reply(endpoint, status, text(body));
        } finally {
            http.disconnect();
        }
    }

    private static String text(InputStream stream) throws IOException {
        if (stream == null) {
            return "";
        }
        try (stream) {
            return new String(stream.readAllBytes(), StandardCharsets.UTF_8);
        }
    }
}
