package dev.sportsfeat.udfs.state;

/**
 * DECAY_SUM's accumulator: the decayed sum as of {@code refMs}, the latest timestamp seen.
 * Every factor is 2^-(age / halfLife) with a non-negative age, so it lies in (0, 1]: nothing
 * can overflow, however far apart the timestamps (very old values underflow to 0, as they
 * should). A structured type that Flink serializes itself; field names are part of the
 * savepoint format.
 */
public class DecayAccumulator {
    public double sum;
    public long refMs;
    public long halfLifeMs;
    public boolean seen;

    public void add(double value, long tsMillis, long halfLife) {
        halfLifeMs = halfLife;
        fold(value, tsMillis);
    }

    public void merge(DecayAccumulator other) {
        if (other.seen) {
            halfLifeMs = other.halfLifeMs;
            fold(other.sum, other.refMs);
        }
    }

    /** Adds a sum valued as of {@code tsMillis}. */
    private void fold(double value, long tsMillis) {
        if (!seen) {
            sum = value;
            refMs = tsMillis;
            seen = true;
        } else if (tsMillis > refMs) {
            sum = sum * decay(tsMillis - refMs) + value;
            refMs = tsMillis;
        } else {
            sum += value * decay(refMs - tsMillis);
        }
    }

    private double decay(long ageMs) {
        return Math.pow(2.0, -(double) ageMs / halfLifeMs);
    }
}
