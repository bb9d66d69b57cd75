package dev.sportsfeat.udfs.avro;

/**
 * The schema registry could not answer, or its URL is wrong: the job fails and restarts from its
 * last checkpoint under its restart strategy, instead of sending good records to the dead-letter
 * path.
 */
public final class RegistryUnavailableException extends RuntimeException {
    private static final long serialVersionUID = 1L;

    public RegistryUnavailableException(String message) {
        super(message);
    }
}
