package dev.sportsfeat.udfs.kafka;

import java.io.Serializable;

/**
 * Joins a subtask's reader to its watermark strategy and record deserializer. The source and
 * the strategy both hold one link; Flink serializes them in one object, the source operator's
 * factory ({@code StreamConfig.setStreamOperatorFactory}: the SourceOperatorFactory with its
 * source and strategy under one key), and every subtask deserializes its own copy, so within a
 * subtask all three reach the same link, which the reader binds when it is created.
 */
final class ReaderLink implements Serializable {
    private static final long serialVersionUID = 1L;

    private transient volatile SplitRegistry registry;

    void bind(SplitRegistry reader) {
        if (registry != null) {
            throw new IllegalStateException("a second lag-aware reader on one deserialized source");
        }
        registry = reader;
    }

    void unbind(SplitRegistry reader) {
        if (registry == reader) {
            registry = null;
        }
    }

    SplitRegistry registry() {
        SplitRegistry reader = registry;
        if (reader == null) {
            throw new IllegalStateException("no lag-aware reader in this subtask: the source and"
                    + " its watermark strategy were not deserialized together");
        }
        return reader;
    }
}
