"""Notifications: a run's result, or its failure, delivered to the targets configured under `notify`."""
