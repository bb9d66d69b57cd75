package dev.sportsfeat.udfs.kafka;

/**
 * A lag check's finding for one split it confirmed caught up: valid while the split's position
 * is still {@code position} (it has emitted nothing since the check started).
 *
 * @param check the check's sequence number
 * @param position the split's position when the check started
 * @param proxy the watermark the split may emit while the verdict holds
 * @param allQuiet whether the check confirmed every split of the reader
 */
record Verdict(long check, long position, long proxy, boolean allQuiet) {}
