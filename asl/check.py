"""What the `check` stage validates before any work, reporting every problem at once."""

from __future__ import annotations

from pathlib import Path

from asl.errors import AslError
from asl.params import Params, SplitConfig, range_problems


def params_problems(params: Params, raw_dir: Path | None = None) -> list[str]:
    """Every problem of `params`: the model selection and its hyperparameters, augmentation methods, value ranges
    and, given `raw_dir`, split participants that its index does not have (checked when the index exists)."""
    from asl.data.augment import check_methods
    from asl.data.splits import split_problems
    from asl.models.registry import get_model_entry

    problems = []
    for check in (lambda: get_model_entry(params.framework, params.model).build_config(params.model_settings()),
                  lambda: check_methods(params.augment.methods), lambda: input_problems(params)):
        try:
            check()
        except AslError as error:
            problems.append(str(error))
    problems += (range_problems(params) + split_problems(params.split) + resume_problems(params)
                 + speed_problems(params) + awp_problems(params) + renamed_key_problems(params))
    return problems + (participant_problems(params.split, raw_dir) if raw_dir is not None else [])


def input_problems(params: Params) -> None:
    """Raise `AslError` when the model's input transform needs landmark groups the store lacks."""
    from asl.data.inputs import InputPipeline
    from asl.params import landmark_problems

    if not landmark_problems(params.preprocess):  # reported by range_problems
        InputPipeline.of(params).landmarks  # resolving the groups of its transform in the store raises


def renamed_key_problems(params: Params) -> list[str]:
    """Renamed keys (asl.models.registry.RENAMED_KEYS) in the other models' entries and in `tune.space`, each with
    its new name; the selected model's entry is checked by its config (`ModelEntry.build_config`)."""
    from asl.models.registry import RENAMED_KEYS, renamed_keys

    problems = [message for name, settings in params.models.items() if name != params.model
                for message in renamed_keys(settings, f"models.{name}")]
    for name, space in (params.tune.space if params.tune else {}).items():
        for key in space if isinstance(space, dict) else []:
            new_key = ".".join(RENAMED_KEYS.get(part, part) for part in key.split("."))
            if new_key != key:
                problems.append(f"tune.space.{name}: {key} was renamed to {new_key}")
    return problems


def resume_problems(params: Params) -> list[str]:
    """`train.resume` with a trainer that cannot resume (only the native PyTorch trainer saves its state)."""
    from asl.training.run import uses_lightning

    if not params.train.resume or (params.framework == "pytorch" and not uses_lightning(params)):
        return []
    trainer = "TensorFlow" if params.framework != "pytorch" else "PyTorch Lightning"
    return [f"train.resume: true works with the native PyTorch trainer only, not {trainer} "
            f"({params.framework} {params.model}); set train.resume: false"]


def speed_problems(params: Params) -> list[str]:
    """`train.precision`, `train.compile` and `train.store_on_device` where the trainer does not apply them:
    TensorFlow has none, the Lightning engine takes the precision only; the store goes to the device only for a
    variable-length model without normalisation."""
    from asl.training.run import uses_lightning

    train, problems = params.train, []
    native = params.framework == "pytorch" and not uses_lightning(params)
    for key in ("compile", "store_on_device"):
        if getattr(train, key) and not native:
            problems.append(f"train.{key}: true works with the native PyTorch trainer only, not {params.framework} "
                            f"{params.model}; set train.{key}: false")
    if train.store_on_device and native and not (variable_length_input(params)
                                                  and params.preprocess.normalization == "none"):
        problems.append(f"train.store_on_device: true needs a model of variable-length input and "
                        f"preprocess.normalization: none ({params.model}, {params.preprocess.normalization}); "
                        "set train.store_on_device: false")
    if train.precision != "32" and params.framework != "pytorch":
        problems.append(f"train.precision: {train.precision} works with the PyTorch trainers only, not "
                        f"{params.framework}; set train.precision: 32")
    return problems


def variable_length_input(params: Params) -> bool:
    """Whether the selected model reads variable-length input (True where its transform cannot be resolved: that
    problem is reported on its own)."""
    from asl.data.inputs import input_transform

    try:
        return input_transform(params).variable_length
    except AslError:
        return True


def awp_problems(params: Params) -> list[str]:
    """`train.awp` with the PyTorch Lightning engine, whose automatic optimisation takes one gradient per step (AWP
    needs two: the native trainer's `BaseModel.training_step`)."""
    from asl.training.run import uses_lightning

    if params.train.awp.strength == 0 or params.framework != "pytorch" or not uses_lightning(params):
        return []
    return [f"train.awp.strength: {params.train.awp.strength} works with the native PyTorch trainer only, not PyTorch "
            f"Lightning ({params.model}); set train.awp.strength: 0 or train.engine: native"]


def participant_problems(split: SplitConfig, raw_dir: Path) -> list[str]:
    """Named split participants missing from `raw_dir`'s train.csv (none when it does not exist yet)."""
    from asl.data.raw import INDEX_FILE, read_index

    if not (raw_dir / INDEX_FILE).is_file():
        return []
    known = set(read_index(raw_dir)["participant_id"])
    problems = []
    for key, named in (("valid_participants", split.valid_participants),
                       ("test_participants", split.test_participants)):
        unknown = [str(p) for p in named if str(p) not in known]
        if unknown:
            problems.append(f"split.{key}: {', '.join(unknown)} not in {raw_dir / INDEX_FILE}")
    return problems


def raise_problems(problems: list[str], where: str) -> None:
    """Raise one `AslError` that lists every problem, each on its own line; nothing when there is none."""
    if len(problems) == 1:
        raise AslError(f"{where}: {problems[0]}")
    if problems:
        raise AslError(f"{where}: {len(problems)} problems:\n  " + "\n  ".join(problems))


def check_params(params: Params, raw_dir: Path | None = None, where: str = "params") -> None:
    """Raise one `AslError` listing every problem of `params` (see `params_problems`)."""
    raise_problems(params_problems(params, raw_dir), where)
