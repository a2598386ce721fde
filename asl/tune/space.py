"""The search space of `asl tune` (params.yaml `tune.space`), its validation, and params keys set by dotted path.

Nothing here imports Ray: the space is validated, and a best configuration applied, without starting anything.
A distribution is `{type: loguniform|uniform, low, high}`, `{type: randint, low, high}` (high exclusive, as in
numpy and Ray) or `{type: choice, values: [...]}`; its key is a dotted params key such as
`models.TransformerPredictor.optimizer.learning_rate` or `augment.probability`.
"""

from __future__ import annotations

import dataclasses
from typing import Any

from asl.errors import AslError
from asl.params import Params, from_mapping

#: Distribution type → the fields it needs.
DISTRIBUTIONS: dict[str, tuple[str, ...]] = {
    "loguniform": ("low", "high"),
    "uniform": ("low", "high"),
    "randint": ("low", "high"),
    "choice": ("values",),
}


def model_space(params: Params) -> dict[str, dict[str, Any]]:
    """The validated search space of the selected model (`tune.space.<model>`)."""
    if params.tune is None:
        raise AslError("params has no `tune:` section; see params.yaml in the repository for one")
    validate_models(params)
    if params.model not in params.tune.space:
        raise AslError(f"tune.space has no entry for the selected model {params.model!r}; "
                       f"it has {', '.join(sorted(params.tune.space)) or 'none'}")
    space = params.tune.space[params.model]
    validate_space(params, space, f"tune.space.{params.model}")
    return space


def validate_models(params: Params) -> None:
    """Every model named under `tune.space` must be registered for the framework."""
    from asl.models.registry import model_names

    names = model_names(params.framework)
    for name in params.tune.space:
        if name not in names:
            raise AslError(f"tune.space.{name}: no such {params.framework} model; models are: {', '.join(names)}")


def validate_space(params: Params, space: dict[str, Any], where: str) -> None:
    """Raise `AslError` naming the entry on an unknown key or type, an empty range, or a value params rejects."""
    if not isinstance(space, dict) or not space:
        raise AslError(f"{where}: an empty search space; give at least one params key with a distribution")
    raw = dataclasses.asdict(params)
    for key, distribution in space.items():
        name = f"{where}.{key}"
        current = get_path(raw, key, name)
        if isinstance(current, dict):
            raise AslError(f"{name}: {key} is a section of params, not a value")
        _check_distribution(distribution, name)
        for value in _extreme_values(distribution):
            _check_model_settings(with_overrides(params, {key: value}, name), key, name)


def _check_model_settings(trial: Params, key: str, name: str) -> None:
    """A `models.<Name>.*` value must also pass that model's own config (params.py leaves `models` untyped)."""
    from asl.models.registry import get_model_entry

    parts = key.split(".")
    if parts[0] != "models" or len(parts) < 3:
        return
    try:
        get_model_entry(trial.framework, parts[1]).build_config(trial.models[parts[1]])
    except AslError as error:
        raise AslError(f"{name}: {error}") from None


def _check_distribution(distribution: Any, name: str) -> None:
    if not isinstance(distribution, dict) or distribution.get("type") not in DISTRIBUTIONS:
        kind = distribution.get("type") if isinstance(distribution, dict) else distribution
        raise AslError(f"{name}: unknown distribution type {kind!r}; types are {', '.join(DISTRIBUTIONS)}")
    kind = distribution["type"]
    fields = DISTRIBUTIONS[kind]
    extra = sorted(set(distribution) - {"type", *fields})
    missing = [field for field in fields if field not in distribution]
    if extra or missing:
        raise AslError(f"{name}: a {kind} distribution takes exactly {', '.join(fields)}; "
                       f"{'unknown ' + extra[0] if extra else 'missing ' + missing[0]}")
    if kind == "choice":
        if not isinstance(distribution["values"], list) or not distribution["values"]:
            raise AslError(f"{name}: choice needs a non-empty list of values, got {distribution['values']!r}")
        return
    low, high = distribution["low"], distribution["high"]
    numbers = (int,) if kind == "randint" else (int, float)
    if any(isinstance(v, bool) or not isinstance(v, numbers) for v in (low, high)):
        raise AslError(f"{name}: {kind} low and high must be {'integers' if kind == 'randint' else 'numbers'}, "
                       f"got {low!r} and {high!r}")
    if low >= high:
        raise AslError(f"{name}: empty range, low ({low}) must be below high ({high})")
    if kind == "loguniform" and low <= 0:
        raise AslError(f"{name}: loguniform needs low > 0, got {low}")


def _extreme_values(distribution: dict[str, Any]) -> list[Any]:
    """Values a trial may draw that are checked against params before any trial starts."""
    if distribution["type"] == "choice":
        return list(distribution["values"])
    if distribution["type"] == "randint":
        return [distribution["low"], distribution["high"] - 1]
    return [float(distribution["low"]), float(distribution["high"])]


def get_path(raw: dict[str, Any], key: str, name: str | None = None) -> Any:
    """The value at dotted `key` of a nested mapping; `AslError` naming `name` (default: the key) if absent."""
    value: Any = raw
    for part in key.split("."):
        if not isinstance(value, dict) or part not in value:
            raise AslError(f"{name or key}: unknown parameter {key!r} (not a key of params.yaml)")
        value = value[part]
    return value


def set_path(raw: dict[str, Any], key: str, value: Any) -> None:
    """Set dotted `key` of a nested mapping in place; the key must already exist."""
    get_path(raw, key)
    *parents, last = key.split(".")
    for part in parents:
        raw = raw[part]
    raw[last] = value


def with_overrides(params: Params, overrides: dict[str, Any], where: str = "override") -> Params:
    """A new validated `Params` with dotted keys set (what one trial trains with)."""
    raw = dataclasses.asdict(params)
    for key, value in overrides.items():
        set_path(raw, key, value)
    try:
        return from_mapping(Params, raw, "")
    except AslError as error:
        raise AslError(f"{where}: {error}") from None


def ray_search_space(space: dict[str, dict[str, Any]]) -> dict[str, Any]:
    """The space as Ray Tune sampling domains, keyed by the dotted params keys."""
    from ray import tune

    domains = {
        "loguniform": lambda d: tune.loguniform(d["low"], d["high"]),
        "uniform": lambda d: tune.uniform(d["low"], d["high"]),
        "randint": lambda d: tune.randint(d["low"], d["high"]),
        "choice": lambda d: tune.choice(d["values"]),
    }
    return {key: domains[d["type"]](d) for key, d in space.items()}
