"""Failure drills on the real stack: crash and restart its parts while the generator produces
at a steady rate, then prove with an oracle that no feature update was lost or duplicated."""
