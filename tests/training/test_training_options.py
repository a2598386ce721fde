"""The PyTorch trainers' generic options: the cosine schedule, label smoothing, AWP and the epoch hook."""

import dataclasses
import math
from pathlib import Path

import pytest
import torch

from asl.check import params_problems
from asl.models.config import InputShape, OptimizerConfig, SchedulerConfig
from asl.models.torch.base import BaseModel, StepOptions, adversarial_weights, learning_rate_schedule
from asl.params import AwpConfig, load_params
from asl.training.precision import MixedPrecision
from asl.training.torch_trainer import start_epoch

REPO = Path(__file__).resolve().parents[2]
SHAPE = InputShape(frames=4, landmarks=3, coordinates=2)


@dataclasses.dataclass(frozen=True)
class TinyConfig:
    optimizer: OptimizerConfig = OptimizerConfig("SGD", 0.1, 0.0)
    scheduler: SchedulerConfig = SchedulerConfig()


class Tiny(BaseModel):
    """A deterministic two-layer model: its steps can be computed by hand."""

    def __init__(self) -> None:
        super().__init__(TinyConfig(), SHAPE, 3)
        torch.manual_seed(0)
        self.hidden = torch.nn.Linear(SHAPE.features, 5)
        self.head = torch.nn.Linear(5, 3)
        self.epochs_started: list[int] = []

    def forward(self, x, mask):
        return self.head(torch.tanh(self.hidden(x.flatten(start_dim=2)))).mean(dim=1)

    def on_epoch_start(self, epoch: int) -> None:
        self.epochs_started.append(epoch)


def batch():
    generator = torch.Generator().manual_seed(3)
    x = torch.randn(6, SHAPE.frames, SHAPE.landmarks, SHAPE.coordinates, generator=generator)
    return x, torch.ones(6, SHAPE.frames, dtype=torch.bool), torch.arange(6) % 3


def weights(model) -> list[torch.Tensor]:
    return [p.detach().clone() for p in model.parameters()]


def learning_rates(settings: SchedulerConfig, epochs: int, peak: float = 1.0) -> list[float]:
    optimizer = torch.optim.SGD([torch.nn.Parameter(torch.zeros(1))], lr=peak)
    schedule = learning_rate_schedule(optimizer, settings, epochs)
    rates = []
    for _ in range(epochs):
        rates.append(schedule.get_last_lr()[0])
        optimizer.step()
        schedule.step()
    return rates


def test_cosine_warms_up_linearly_then_decays_to_the_minimum_at_the_last_epoch():
    rates = learning_rates(SchedulerConfig(name="cosine", warmup_epochs=2, min_learning_rate=0.01), 12, peak=2.0)
    assert rates[:3] == pytest.approx([2 / 3, 4 / 3, 2.0])
    assert rates[-1] == pytest.approx(0.01) and all(a > b for a, b in zip(rates[2:], rates[3:]))
    assert rates[7] == pytest.approx(0.01 + (2.0 - 0.01) * 0.5 * (1 + math.cos(math.pi * 5 / 9)))
    assert learning_rates(SchedulerConfig(name="cosine"), 1) == [1.0]  # one epoch: no warmup, the peak


def test_exponential_stays_the_default():
    assert learning_rates(SchedulerConfig(gamma=0.5), 3) == pytest.approx([1.0, 0.5, 0.25])


def test_label_smoothing_mixes_the_uniform_distribution_into_the_targets():
    model = Tiny()
    logits, labels = torch.randn(5, 3, generator=torch.Generator().manual_seed(1)), torch.tensor([0, 1, 2, 0, 1])
    plain = torch.nn.functional.cross_entropy(logits, labels)
    assert model.loss(logits, labels) == plain
    model.step_options = StepOptions(label_smoothing=0.1)
    uniform = -torch.log_softmax(logits, dim=1).mean()  # cross-entropy against the uniform distribution
    torch.testing.assert_close(model.loss(logits, labels), 0.9 * plain + 0.1 * uniform)


def test_awp_perturbs_each_weight_along_its_gradient_and_restores_it_exactly():
    model = Tiny()
    x, mask, labels = batch()
    model.loss(model(x, mask), labels).backward()
    before = weights(model)
    with adversarial_weights(model, 0.2):
        for parameter, original in zip(model.parameters(), before):
            delta = parameter.detach() - original
            assert torch.linalg.vector_norm(delta) == pytest.approx(0.2, rel=1e-4)
            assert torch.nn.functional.cosine_similarity(delta.flatten(), parameter.grad.flatten(), dim=0) > 0.999
    assert all(torch.equal(p, w) for p, w in zip(model.parameters(), before))


def test_an_awp_step_applies_the_gradient_at_the_perturbed_weights_to_the_weights():
    x, mask, labels = batch()
    model, reference = Tiny(), Tiny()
    model.step_options = StepOptions(awp_strength=0.3)
    optimizer, _ = model.configure_optimizers()
    loss, _ = model.training_step(x, mask, labels, optimizer)
    reference.loss(reference(x, mask), labels).backward()
    torch.testing.assert_close(loss, reference.loss(reference(x, mask), labels).detach())  # at the weights
    with torch.no_grad():
        before = weights(reference)
        for parameter in reference.parameters():
            parameter += 0.3 * parameter.grad / torch.linalg.vector_norm(parameter.grad)
            parameter.grad = None
    reference.loss(reference(x, mask), labels).backward()
    for parameter, original, stepped in zip(reference.parameters(), before, model.parameters()):
        torch.testing.assert_close(stepped, original - 0.1 * parameter.grad)


def test_awp_strength_zero_is_the_plain_step():
    x, mask, labels = batch()
    model, plain = Tiny(), Tiny()
    model.step_options = StepOptions(awp_strength=0.0, label_smoothing=0.0)
    model.training_step(x, mask, labels, model.configure_optimizers()[0])
    optimizer = torch.optim.SGD(plain.parameters(), lr=0.1)
    torch.nn.functional.cross_entropy(plain(x, mask), labels).backward()
    optimizer.step()
    assert all(torch.equal(a, b) for a, b in zip(model.parameters(), plain.parameters()))


def test_awp_runs_under_bf16_autocast():
    model = Tiny()
    model.step_options = StepOptions(awp_strength=0.2)
    before = weights(model)
    loss, logits = model.training_step(*batch(), model.configure_optimizers()[0], MixedPrecision("cpu", torch.bfloat16))
    assert torch.isfinite(loss) and logits.dtype == torch.bfloat16
    assert not any(torch.equal(p, w) for p, w in zip(model.parameters(), before))


def test_each_epoch_sets_the_step_options_and_calls_the_models_hook():
    params = load_params(REPO / "params.yaml")
    train = dataclasses.replace(params.train, label_smoothing=0.1, awp=AwpConfig(strength=0.2, start_epoch=3))
    model = Tiny()
    start_epoch(model, 2, train)
    assert model.step_options == StepOptions(label_smoothing=0.1, awp_strength=0.0)
    start_epoch(model, 3, train)
    assert model.step_options == StepOptions(label_smoothing=0.1, awp_strength=0.2)
    assert model.epochs_started == [2, 3]


def test_awp_with_the_lightning_engine_is_a_params_problem():
    params = load_params(REPO / "params.yaml")
    awp = dataclasses.replace(params.train, awp=AwpConfig(strength=0.2, start_epoch=1))
    lightning = dataclasses.replace(params, model="TransformerPredictor",
                                    train=dataclasses.replace(awp, engine="lightning"))
    assert any(p.startswith("train.awp.strength: 0.2 works with the native PyTorch trainer only")
               for p in params_problems(lightning))
    native = dataclasses.replace(lightning, train=awp)
    assert not any("train.awp" in p for p in params_problems(native))
