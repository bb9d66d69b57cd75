package dev.sportsfeat.udfs.avro;

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
 * cached forever (ids are immutable). An id the registry does not know is remembered for
 * {@link #UNKNOWN_TTL_MS}, so a burst of garbage does not become a burst of requests.
 *
 * <p>An unreachable registry or a 5xx is retried with exponential backoff (200 ms doubling to
 * 5 s) for up to {@code maxWaitMs}; then {@link RegistryUnavailableException}. Any other
 * unexpected answer (401, 403, 400, a body without a schema) fails at once: neither is bad data.
 * Plain HttpURLConnection: no client threads to outlive a job's class loader.
 */
public final class SchemaRegistry {
    static final long UNKNOWN_TTL_MS = 30_000;
    private static final int UNKNOWN_MAX = 1024;
    private static final long FIRST_BACKOFF_MS = 200;
    private static final long MAX_BACKOFF_MS = 5_000;
    private static final int TIMEOUT_MS = 5_000;
    private static final ObjectMapper JSON = new ObjectMapper();

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

    public SchemaRegistry(String url, long maxWaitMs) {
        this.url = url.endsWith("/") ? url.substring(0, url.length() - 1) : url;
        this.maxWaitMs = maxWaitMs;
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
        String fetched = fetchWithRetries(id);
        if (fetched == null) {
            synchronized (unknownUntil) {
                unknownUntil.put(id, System.currentTimeMillis() + UNKNOWN_TTL_MS);
            }
        } else {
            schemas.put(id, fetched);
        }
        return fetched;
    }

    private String fetchWithRetries(int id) {
        long start = System.currentTimeMillis();
        long backoff = FIRST_BACKOFF_MS;
        while (true) {
            String cause;
            try {
                return fetch(id);
            } catch (IOException e) {
                cause = e.toString();
            }
            long waited = System.currentTimeMillis() - start;
            if (waited + backoff > maxWaitMs) {
                throw new RegistryUnavailableException(
                        String.format(
                                "schema registry %s unavailable for %d ms while fetching schema id %d"
                                        + " (sportsfeat.registry.max-wait-ms=%d): %s",
                                url, waited, id, maxWaitMs, cause));
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

    /** One GET: the schema, null on 404, IOException for what is worth retrying. */
    private String fetch(int id) throws IOException {
        String endpoint = url + "/schemas/ids/" + id;
        HttpURLConnection http = (HttpURLConnection) URI.create(endpoint).toURL().openConnection();
        http.setConnectTimeout(TIMEOUT_MS);
        http.setReadTimeout(TIMEOUT_MS);
        http.setRequestProperty("Accept", "application/vnd.schemaregistry.v1+json, application/json");
        try {
            int status = http.getResponseCode();
            if (status == 404) {
                return null;
            }
            if (status >= 500) {
                throw new IOException("HTTP " + status + " from " + endpoint);
            }
            String body = body(status == 200 ? http.getInputStream() : http.getErrorStream());
            JsonNode schema = status == 200 ? JSON.readTree(body).get("schema") : null;
            if (schema == null || !schema.isTextual()) {
                throw new RegistryUnavailableException(
                        "schema registry " + url + " answered HTTP " + status + " to GET "
                                + endpoint + ": " + body);
            }
            return schema.asText();
        } finally {
            http.disconnect();
        }
    }

    private static String body(InputStream stream) throws IOException {
        if (stream == null) {
            return "";
        }
        try (stream) {
            return new String(stream.readAllBytes(), StandardCharsets.UTF_8);
        }
    }
}
