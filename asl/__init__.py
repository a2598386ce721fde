"""Isolated American Sign Language recognition from MediaPipe Holistic landmarks."""

__version__ = "0.1.0"
