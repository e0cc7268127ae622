"""Running the service: start-up checks, readiness, metrics and the structured log."""
