"""Running searchapp for real: logs, the query log and its report, Prometheus metrics."""
