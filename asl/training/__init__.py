"""The trainer, callbacks, early stopping, checkpoints and logging."""
