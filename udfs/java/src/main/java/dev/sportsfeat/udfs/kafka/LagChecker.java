package dev.sportsfeat.udfs.kafka;

import org.apache.flink.kafka.shaded.org.apache.kafka.common.TopicPartition;
import org.apache.flink.metrics.Counter;
import org.apache.flink.metrics.MetricGroup;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.function.LongSupplier;

/**
 * Every check interval, on its own thread: which splits of the reader are caught up, and the
 * proxy watermark they may emit. A check first notes each split's position and own watermark,
 * then asks the {@link LagSource} about the splits whose position has not moved for
 * quiet-after, so the end offsets it compares with are read after the splits' last records.
 * A caught-up split gets a {@link Verdict}: proxy = the lowest own watermark, at the check's
 * start, of the splits it did not confirm (every split confirmed: the highest). A failed check
 * withdraws all verdicts, so every split holds.
 *
 * <p>Metrics in the reader's group {@code lagAware}: gauge {@code quietSplits} (confirmed by
 * the latest check), counters {@code checks} and {@code checkFailures}.
 */
final class LagChecker implements AutoCloseable {
    private static final Logger LOG = LoggerFactory.getLogger(LagChecker.class);

    private final SplitRegistry registry;
    private final LagSource lagSource;
    private final long quietAfterNanos;
    private final LongSupplier nanoClock;
    private final Counter checks;
    private final Counter failures;
    private volatile int quiet;
    private long check;
    private int failedInARow;
    private ScheduledExecutorService executor;

    LagChecker(
            SplitRegistry registry,
            LagSource lagSource,
            Duration quietAfter,
            LongSupplier nanoClock,
            MetricGroup metrics) {
        this.registry = registry;
        this.lagSource = lagSource;
        this.quietAfterNanos = quietAfter.toNanos();
        this.nanoClock = nanoClock;
        MetricGroup group = metrics.addGroup("lagAware");
        group.gauge("quietSplits", () -> quiet);
        checks = group.counter("checks");
        failures = group.counter("checkFailures");
    }

    /** Checks every {@code interval} on a daemon thread with the caller's context class loader. */
    void start(Duration interval, String threadName) {
        ClassLoader loader = Thread.currentThread().getContextClassLoader();
        executor = Executors.newSingleThreadScheduledExecutor(task -> {
            Thread thread = new Thread(task, threadName);
            thread.setDaemon(true);
            thread.setContextClassLoader(loader); // the JAAS login module of SASL is loaded by it
            return thread;
        });
        long millis = interval.toMillis();
        executor.scheduleWithFixedDelay(this::check, millis, millis, TimeUnit.MILLISECONDS);
    }

    void check() {
        long now = nanoClock.getAsLong();
        List<SplitState> splits = new ArrayList<>(registry.splits());
        long[] positions = new long[splits.size()];
        long[] owns = new long[splits.size()];
        Map<TopicPartition, Long> candidates = new HashMap<>();
        for (int i = 0; i < splits.size(); i++) {
            SplitState split = splits.get(i);
            owns[i] = split.ownWatermark;
            positions[i] = split.position;
            if (positions[i] != split.seenPosition) {
                split.seenPosition = positions[i];
                split.seenChangeNanos = now;
            } else if (now - split.seenChangeNanos >= quietAfterNanos) {
                candidates.put(split.partition, positions[i]);
            }
        }
        checks.inc();
        Set<TopicPartition> caughtUp;
        try {
            caughtUp = candidates.isEmpty() ? Set.of() : lagSource.caughtUp(candidates);
        } catch (Exception e) {
            failed(splits, e);
            return;
        }
        if (failedInARow > 0) {
            LOG.info("Lag checks succeed again after {} failures", failedInARow);
            failedInARow = 0;
        }
        long proxy = Long.MAX_VALUE;
        long highest = Long.MIN_VALUE;
        boolean allQuiet = true;
        for (int i = 0; i < splits.size(); i++) {
            highest = Math.max(highest, owns[i]);
            if (!caughtUp.contains(splits.get(i).partition)) {
                proxy = Math.min(proxy, owns[i]);
                allQuiet = false;
            }
        }
        long id = ++check;
        for (int i = 0; i < splits.size(); i++) {
            SplitState split = splits.get(i);
            split.verdict = caughtUp.contains(split.partition)
                    ? new Verdict(id, positions[i], allQuiet ? highest : proxy, allQuiet)
                    : null;
        }
        quiet = caughtUp.size();
    }

    private void failed(List<SplitState> splits, Exception e) {
        splits.forEach(split -> split.verdict = null);
        quiet = 0;
        if (Thread.currentThread().isInterrupted()) {
            return; // closing
        }
        failures.inc();
        if (failedInARow++ == 0) { // once per run of failures
            LOG.warn("Lag check failed: every split holds the watermark until one succeeds", e);
        }
    }

    @Override
    public void close() {
        if (executor != null) {
            executor.shutdownNow(); // the Kafka client gives up on interrupt
            try {
                if (!executor.awaitTermination(10, TimeUnit.SECONDS)) {
                    LOG.warn("Lag check thread did not stop within 10 s");
                }
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }
        lagSource.close();
    }
}
