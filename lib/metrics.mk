# lib/metrics: sources are added here by the metrics module.
