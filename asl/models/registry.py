"""One registry of model names per framework (timm's `@register_model`).

The key is the seed's class name, so `dvc exp run -S model=LSTMPredictor` names a registered class. Model modules
are imported only when a framework's models are asked for, so `asl --help` never pays for torch.
"""

from __future__ import annotations

import importlib
from dataclasses import dataclass
from typing import Any, Callable

from asl.errors import AslError
from asl.params import from_mapping

#: Modules whose import registers each framework's models.
MODEL_MODULES: dict[str, tuple[str, ...]] = {
    "pytorch": ("asl.models.torch.lstm", "asl.models.torch.transformer", "asl.models.torch.yet_another_transformer",
                "asl.models.torch.ensembles", "asl.models.torch.cv_transfer", "asl.models.torch.lightning_models",
                "asl.models.torch.conv1d_transformer"),
    "tensorflow": ("asl.models.tf.lstm", "asl.models.tf.transformer", "asl.models.tf.hybrid", "asl.models.tf.cv",
                   "asl.models.tf.conv1d_transformer"),
}
FRAMEWORK_TITLES = {"pytorch": "PyTorch", "tensorflow": "TensorFlow"}

#: Keys of a model's params.yaml entry renamed so that one concept has one name in every model and framework.
RENAMED_KEYS = {"layer_dim": "num_layers", "n_head": "num_heads", "attn_dropout": "attention_dropout",
                "drop_rate": "dropout"}


@dataclass(frozen=True)
class ModelEntry:
    name: str
    framework: str
    model_class: type
    config_class: type  # a dataclass of the model's hyperparameters: its `models.<name>` entry in params.yaml

    def build_config(self, settings: dict[str, Any]) -> Any:
        """Validate the model's params.yaml entry into its config object."""
        renamed = renamed_keys(settings, f"models.{self.name}")
        if renamed:
            raise AslError("; ".join(renamed))
        return from_mapping(self.config_class, settings, f"models.{self.name}")


def renamed_keys(settings: Any, prefix: str) -> list[str]:
    """'<prefix>.<key> was renamed to <new key>' for each renamed key (RENAMED_KEYS) of a model's params entry, at
    any depth."""
    if not isinstance(settings, dict):
        return []
    messages = []
    for key, value in settings.items():
        if key in RENAMED_KEYS:
            messages.append(f"{prefix}.{key} was renamed to {RENAMED_KEYS[key]}")
        messages += renamed_keys(value, f"{prefix}.{key}")
    return messages


_REGISTRY: dict[str, dict[str, ModelEntry]] = {framework: {} for framework in MODEL_MODULES}


def register_model(framework: str, config_class: type) -> Callable[[type], type]:
    """Class decorator: register a model under its class name for `framework`."""

    def register(model_class: type) -> type:
        _REGISTRY[framework][model_class.__name__] = ModelEntry(model_class.__name__, framework, model_class,
                                                                config_class)
        return model_class

    return register


def model_names(framework: str) -> list[str]:
    """Registered model names of a framework, importing its model modules."""
    if framework not in MODEL_MODULES:
        raise AslError(f"unknown framework {framework!r}; choose from {', '.join(MODEL_MODULES)}")
    for module in MODEL_MODULES[framework]:
        importlib.import_module(module)
    return sorted(_REGISTRY[framework])


def get_model_entry(framework: str, name: str) -> ModelEntry:
    """The registry entry of a model; an unknown name fails with the list of valid ones."""
    names = model_names(framework)
    if name in names:
        return _REGISTRY[framework][name]
    title = FRAMEWORK_TITLES[framework]
    # Only frameworks already imported are searched for a hint: a PyTorch run never imports TensorFlow.
    others = [f for f in MODEL_MODULES if f != framework and name in _REGISTRY[f]]
    hint = f" ({name} exists for {', '.join(FRAMEWORK_TITLES[f] for f in others)})" if others else ""
    valid = ", ".join(names) if names else "none yet"
    raise AslError(f"model {name!r} does not exist for {title}{hint}; {title} models are: {valid}")
