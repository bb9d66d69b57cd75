package dev.sportsfeat.udfs.state;

/**
 * LATEST's and EARLIEST's accumulator: the winning value and its timestamp. A structured type
 * (a POJO of two fields) that Flink serializes itself: fixed shape, nothing to hand-encode.
 * Field names are part of the savepoint format.
 */
public class TimedValue {
    /** The winner so far; null while the group is empty (null inputs are skipped). */
    public String value;

    public long ts;

    /** Takes (value, ts) if it beats the current winner: a later ts, or the same ts and a greater value. */
    public void keepLatest(String candidate, long candidateTs) {
        if (value == null
                || candidateTs > ts
                || (candidateTs == ts && candidate.compareTo(value) > 0)) {
            value = candidate;
            ts = candidateTs;
        }
    }

    /** Takes (value, ts) if it beats the current winner: an earlier ts, or the same ts and a smaller value. */
    public void keepEarliest(String candidate, long candidateTs) {
        if (value == null
                || candidateTs < ts
                || (candidateTs == ts && candidate.compareTo(value) < 0)) {
            value = candidate;
            ts = candidateTs;
        }
    }
}
