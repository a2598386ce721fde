"""The seed's two training callbacks as schedules of the epoch, shared by both frameworks.

Dynamic dropout: each dropout of the model starts at its configured rate (`models.<model>.*dropout*`) and grows by
`factor` every `interval` epochs up to `max_rate` (a configured rate above `max_rate` is kept, never lowered).
Dynamic augmentation: the augmentation probability grows likewise from `augment.probability` up to
`max_probability`.
"""

from __future__ import annotations

from typing import Callable

from asl.data.augment import BatchAugmenter, training_augmenter
from asl.params import AugmentScheduleConfig, DropoutScheduleConfig, Params


def dropout_schedule(epoch: int, config: DropoutScheduleConfig) -> Callable[[float], float] | None:
    """This (0-based) epoch's rate as a function of a dropout's configured rate; None when the schedule is off."""
    if not config.enabled:
        return None
    growth = config.factor ** (epoch // config.interval)
    return lambda configured: min(max(configured, config.max_rate), configured * growth)


def scheduled_augment_probability(epoch: int, initial: float, config: AugmentScheduleConfig) -> float:
    """The augmentation probability for a (0-based) epoch, starting from `augment.probability`."""
    if not config.enabled:
        return initial
    return min(max(initial, config.max_probability),
               initial * config.factor ** (epoch // config.interval))


def epoch_augmenter(epoch: int, params: Params, groups: tuple[str, ...], frames: int,
                    compiled: bool = False) -> BatchAugmenter:
    """This epoch's augmenter of model inputs of landmark `groups` and `frames` frames: `augment.methods` with the
    scheduled `augment.probability` (both frameworks' trainers); `compiled`: through torch.compile."""
    probability = scheduled_augment_probability(epoch, params.augment.probability, params.callbacks.augmentation)
    return training_augmenter(params.augment, probability, groups, params.preprocess.normalization, params.seed,
                              frames, compiled)
