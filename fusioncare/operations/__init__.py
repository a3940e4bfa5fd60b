"""Running the service: health and readiness, metrics, structured logs with request ids, backup and restore."""
