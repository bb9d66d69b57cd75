package dev.sportsfeat.udfs.kafka;

import java.io.Serializable;
import java.time.Duration;

/**
 * @param quietAfter how long a split emits nothing before the lag check considers it
 * @param checkInterval the pause between two lag checks of a reader
 */
record LagAwareSettings(Duration quietAfter, Duration checkInterval) implements Serializable {
    LagAwareSettings {
        if (quietAfter.isNegative() || quietAfter.isZero()
                || checkInterval.isNegative() || checkInterval.isZero()) {
            throw new IllegalArgumentException("lag-aware durations must be positive");
        }
    }
}
