package dev.sportsfeat.udfs.kafka;

import org.apache.flink.api.common.eventtime.Watermark;
import org.apache.flink.api.connector.source.ReaderOutput;
import org.apache.flink.api.connector.source.SourceEvent;
import org.apache.flink.api.connector.source.SourceOutput;
import org.apache.flink.api.connector.source.SourceReader;
import org.apache.flink.connector.kafka.source.split.KafkaPartitionSplit;
import org.apache.flink.core.io.InputStatus;

import java.util.Collection;
import java.util.List;
import java.util.concurrent.CompletableFuture;

/**
 * The connector's reader, telling the registry which splits it has (and has finished) and
 * running the lag checker while it is open.
 */
@SuppressWarnings("try") // close() throws Exception as SourceReader's does
final class LagAwareReader<T> implements SourceReader<T, KafkaPartitionSplit> {
    private final SourceReader<T, KafkaPartitionSplit> delegate;
    private final SplitRegistry registry;
    private final LagChecker checker;
    private final ReaderLink link;
    private final LagAwareSettings settings;
    private final String checkerName;
    private ReaderOutput<T> output;
    private ReleasingOutput<T> releasing;

    LagAwareReader(
            SourceReader<T, KafkaPartitionSplit> delegate,
            SplitRegistry registry,
            LagChecker checker,
            ReaderLink link,
            LagAwareSettings settings,
            String checkerName) {
        this.delegate = delegate;
        this.registry = registry;
        this.checker = checker;
        this.link = link;
        this.settings = settings;
        this.checkerName = checkerName;
    }

    @Override
    public void start() {
        delegate.start();
        checker.start(settings.checkInterval(), checkerName);
    }

    @Override
    public InputStatus pollNext(ReaderOutput<T> readerOutput) throws Exception {
        if (readerOutput != output) { // SourceOperator passes the same output every time
            output = readerOutput;
            releasing = new ReleasingOutput<>(readerOutput, registry);
        }
        return delegate.pollNext(releasing);
    }

    @Override
    public void addSplits(List<KafkaPartitionSplit> splits) {
        splits.forEach(registry::add); // in SourceOperator's order: pairs them with generators
        delegate.addSplits(splits);
    }

    @Override
    public List<KafkaPartitionSplit> snapshotState(long checkpointId) {
        return delegate.snapshotState(checkpointId);
    }

    @Override
    public CompletableFuture<Void> isAvailable() {
        return delegate.isAvailable();
    }

    @Override
    public void notifyNoMoreSplits() {
        delegate.notifyNoMoreSplits();
    }

    @Override
    public void handleSourceEvents(SourceEvent sourceEvent) {
        delegate.handleSourceEvents(sourceEvent);
    }

    @Override
    public void pauseOrResumeSplits(
            Collection<String> splitsToPause, Collection<String> splitsToResume) {
        delegate.pauseOrResumeSplits(splitsToPause, splitsToResume);
    }

    @Override
    public void notifyCheckpointComplete(long checkpointId) throws Exception {
        delegate.notifyCheckpointComplete(checkpointId);
    }

    @Override
    public void notifyCheckpointAborted(long checkpointId) throws Exception {
        delegate.notifyCheckpointAborted(checkpointId);
    }

    @Override
    public void close() throws Exception {
        try {
            checker.close();
        } finally {
            link.unbind(registry);
            delegate.close();
        }
    }

    /** The reader output, noting the splits SourceReaderBase finishes. */
    private static final class ReleasingOutput<T> implements ReaderOutput<T> {
        private final ReaderOutput<T> delegate;
        private final SplitRegistry registry;

        ReleasingOutput(ReaderOutput<T> delegate, SplitRegistry registry) {
            this.delegate = delegate;
            this.registry = registry;
        }

        @Override
        public void collect(T record) {
            delegate.collect(record);
        }

        @Override
        public void collect(T record, long timestamp) {
            delegate.collect(record, timestamp);
        }

        @Override
        public void emitWatermark(Watermark watermark) {
            delegate.emitWatermark(watermark);
        }

        @Override
        public void markIdle() {
            delegate.markIdle();
        }

        @Override
        public void markActive() {
            delegate.markActive();
        }

        @Override
        public SourceOutput<T> createOutputForSplit(String splitId) {
            return delegate.createOutputForSplit(splitId);
        }

        @Override
        public void releaseOutputForSplit(String splitId) {
            registry.release(splitId);
            delegate.releaseOutputForSplit(splitId);
        }
    }
}
