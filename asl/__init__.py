"""Isolated American Sign Language recognition from MediaPipe Holistic landmarks."""

import os

# Arrow's default allocator (mimalloc) keeps what it frees, so a process that reads tens of thousands of landmark
# files grows with their number (clean's workers: 246 MB after 9,500 files, 318 MB after 28,500); the system
# allocator gives memory back (116 and 134 MB) and reads as fast here. Arrow reads this once, when it loads, so it
# is set before anything imports pyarrow; a user's own setting wins.
os.environ.setdefault("ARROW_DEFAULT_MEMORY_POOL", "system")

__version__ = "0.1.0"
