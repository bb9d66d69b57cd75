"""Engine v2: tiles on write, windows merged on read (docs/engine-v2.md)."""
