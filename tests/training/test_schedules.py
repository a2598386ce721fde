import pytest

from asl.errors import AslError
from asl.params import AugmentScheduleConfig, DropoutScheduleConfig, EarlyStopConfig
from asl.training.callbacks import dropout_schedule, scheduled_augment_probability
from asl.training.early_stopping import EarlyStopping


def test_max_mode_needs_a_gain_beyond_the_tolerance():
    stopper = EarlyStopping(EarlyStopConfig(metric="accuracy", mode="max", patience=2, tolerance=0.01))
    assert stopper.update(0.50)
    assert not stopper.update(0.505)  # within tolerance: not an improvement
    assert stopper.update(0.52)
    assert not stopper.update(0.40) and not stopper.should_stop
    assert not stopper.update(0.52) and stopper.should_stop
    assert stopper.best == 0.52


def test_min_mode_improves_downwards():
    stopper = EarlyStopping(EarlyStopConfig(metric="loss", mode="min", patience=1, tolerance=0.0))
    assert stopper.update(1.0) and stopper.update(0.9)
    assert not stopper.update(0.95) and stopper.should_stop


def test_unknown_metric_is_rejected():
    with pytest.raises(AslError, match="'acc' is not a validation metric"):
        EarlyStopping(EarlyStopConfig(metric="acc", mode="max", patience=1, tolerance=0.0))


def test_dropout_grows_from_each_configured_rate_every_interval_up_to_the_cap():
    config = DropoutScheduleConfig(enabled=True, factor=2.0, max_rate=0.3, interval=2)
    rates = [[dropout_schedule(e, config)(configured) for e in range(6)] for configured in (0.1, 0.0, 0.5)]
    assert rates[0] == pytest.approx([0.1, 0.1, 0.2, 0.2, 0.3, 0.3])
    assert rates[1] == [0.0] * 6  # no dropout configured: none scheduled
    assert rates[2] == [0.5] * 6  # above the cap: kept, never lowered
    assert dropout_schedule(5, DropoutScheduleConfig(False, 2.0, 0.3, 2)) is None


def test_augmentation_probability_grows_up_to_the_cap():
    config = AugmentScheduleConfig(enabled=True, factor=1.5, max_probability=0.35, interval=5)
    values = [scheduled_augment_probability(e, 0.1, config) for e in (0, 4, 5, 10, 15, 40)]
    assert values == pytest.approx([0.1, 0.1, 0.15, 0.225, 0.3375, 0.35])
