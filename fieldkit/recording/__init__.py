"""Recording: crash-safe capture, recovery, import, playback, and the session clock."""
