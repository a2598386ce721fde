"""The seed's two training callbacks as schedules of the epoch, shared by both frameworks.

Dynamic dropout: the dropout rate starts low and grows by `factor` every `interval` epochs up to `max_rate`.
Dynamic augmentation: the augmentation probability grows likewise up to `max_probability`.
"""

from __future__ import annotations

from asl.params import AugmentScheduleConfig, DropoutScheduleConfig


def scheduled_dropout(epoch: int, config: DropoutScheduleConfig) -> float | None:
    """The dropout rate for a (0-based) epoch, or None when the schedule is off (the model keeps its own)."""
    if not config.enabled:
        return None
    return min(config.max_rate, config.initial_rate * config.factor ** (epoch // config.interval))


def scheduled_augment_probability(epoch: int, initial: float, config: AugmentScheduleConfig) -> float:
    """The augmentation probability for a (0-based) epoch, starting from `augment.probability`."""
    if not config.enabled:
        return initial
    return min(max(initial, config.max_probability),
               initial * config.factor ** (epoch // config.interval))
