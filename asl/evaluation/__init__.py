"""Metrics, the classification report and plots."""
