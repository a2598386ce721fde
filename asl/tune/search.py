"""Hyperparameter search with Ray Tune (Optuna search, ASHA scheduler); every trial is an MLflow run.

Each trial trains through the pipeline's own trainer (`asl.training.run.train_model`, early stopping included)
and reports validation accuracy after every epoch, so ASHA can stop weak trials early. Trials run in Ray worker
processes: they import the installed `asl` package and read the preprocessed memory map by absolute path.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from asl.errors import AslError
from asl.extras import require
from asl.params import Params
from asl.tune.space import model_space, ray_search_space, with_overrides

DATABASE = "mlflow.db"  # the SQLite file of a local MLflow store
METRIC = "valid_accuracy"  # what ASHA and Optuna maximise: validation accuracy after each epoch
LOCAL_OBJECT_STORE_BYTES = 100 * 1024**2  # trials share no large objects: the data is a memory map on disk


@dataclass(frozen=True)
class DataPaths:
    values: Path
    meta: Path
    sign_map: Path
    split: Path

    def absolute(self) -> DataPaths:
        return DataPaths(*(Path(p).resolve() for p in (self.values, self.meta, self.sign_map, self.split)))


@dataclass(frozen=True)
class TrialSetup:
    """What every trial needs besides its sampled configuration."""

    params: Params
    data: DataPaths
    tracking_uri: str
    experiment_id: str


@dataclass(frozen=True)
class SearchResult:
    best_config: dict[str, Any]
    best_accuracy: float
    best_run_id: str | None
    trials: int


def tracking_uri_for(uri: str) -> str:
    """A plain folder (default `mlruns`) holds a SQLite store `mlflow.db`, by absolute path so trials find it.

    MLflow 3 refuses its old plain-file store unless told otherwise; SQLite is its suggested local backend.
    """
    if not _is_local_folder(uri):
        return uri  # sqlite:///..., http://..., databricks
    return f"sqlite:///{Path(uri).resolve() / DATABASE}"


def _is_local_folder(uri: str) -> bool:
    return ":" not in uri or Path(uri).is_dir()


def _artifact_location(uri: str) -> str | None:
    """Artifacts of a local store go to `<folder>/artifacts`; a server or given URI decides for itself."""
    return (Path(uri).resolve() / "artifacts").as_uri() if _is_local_folder(uri) else None


def run_search(params: Params, data: DataPaths, trials: int, storage: Path, tracking_uri: str,
               address: str | None = None) -> SearchResult:
    """Search the selected model's `tune.space`; return the best trial's configuration."""
    for module in ("ray.tune", "optuna", "mlflow"):
        require(module, "tune")
    space = model_space(params)  # validated before Ray starts
    data = data.absolute()
    for path in (data.values, data.meta, data.sign_map, data.split):
        if not path.exists():
            raise AslError(f"{path}: not found (run `dvc repro preprocess split` first)")
    if trials < 1:
        raise AslError(f"--trials must be at least 1, got {trials}")
    setup = TrialSetup(params, data, tracking_uri_for(tracking_uri), _experiment_id(params, tracking_uri))
    import ray

    started = _start_ray(address)
    try:
        results = _fit(setup, space, trials, Path(storage).resolve())
    finally:
        if started:
            ray.shutdown()
    return _best(results, trials)


def _experiment_id(params: Params, tracking_uri: str) -> str:
    """Create the MLflow experiment once, here, so concurrent trials do not race to create it."""
    import mlflow

    if _is_local_folder(tracking_uri):
        Path(tracking_uri).mkdir(parents=True, exist_ok=True)
    mlflow.set_tracking_uri(tracking_uri_for(tracking_uri))
    experiment = mlflow.get_experiment_by_name(params.tune.experiment)
    if experiment is not None:
        return experiment.experiment_id
    return mlflow.create_experiment(params.tune.experiment, artifact_location=_artifact_location(tracking_uri))


def _start_ray(address: str | None) -> bool:
    """Join the cluster at `address`, or start a light local instance; True when this call started Ray."""
    import ray

    if ray.is_initialized():
        return False
    if address:
        ray.init(address=address, log_to_driver=False)
    else:
        ray.init(num_cpus=os.cpu_count(), include_dashboard=False, log_to_driver=False,
                 object_store_memory=LOCAL_OBJECT_STORE_BYTES)
    return True


def _fit(setup: TrialSetup, space: dict[str, dict[str, Any]], trials: int, storage: Path):
    from ray import tune
    from ray.tune.schedulers import ASHAScheduler
    from ray.tune.search.optuna import OptunaSearch

    params = setup.params
    resources = {"cpu": params.tune.resources.cpu, "gpu": params.tune.resources.gpu}
    trainable = tune.with_resources(tune.with_parameters(run_trial, setup=setup), resources)
    scheduler = ASHAScheduler(max_t=params.train.epochs, grace_period=min(params.tune.grace_period,
                              params.train.epochs), reduction_factor=params.tune.reduction_factor)
    tuner = tune.Tuner(
        trainable,
        param_space=ray_search_space(space),
        tune_config=tune.TuneConfig(metric=METRIC, mode="max", num_samples=trials, scheduler=scheduler,
                                    search_alg=OptunaSearch(seed=params.seed)),
        run_config=tune.RunConfig(name=params.tune.experiment, storage_path=str(storage), verbose=1),
    )
    return tuner.fit()


def _best(results, trials: int) -> SearchResult:
    completed = [result for result in results if result.error is None and METRIC in (result.metrics or {})]
    if not completed:
        errors = [str(result.error) for result in results if result.error is not None]
        raise AslError(f"no trial reported {METRIC}; first error: {errors[0] if errors else 'none'}")
    best = results.get_best_result(metric=METRIC, mode="max", scope="all")
    return SearchResult(dict(best.config), float(best.metrics[METRIC]), best.metrics.get("mlflow_run_id"),
                        trials)


def run_trial(config: dict[str, Any], setup: TrialSetup) -> None:
    """One trial in a Ray worker: train with the sampled values, log to MLflow, report each epoch to Tune."""
    import mlflow
    from ray import tune

    from asl.data.processed import load_processed
    from asl.training.run import train_model

    params = with_overrides(setup.params, config, "trial")
    folder = Path(tune.get_context().get_trial_dir())
    checkpoint_dir = folder / "checkpoint"
    data = load_processed(setup.data.values, setup.data.meta, setup.data.sign_map, setup.data.split)
    mlflow.set_tracking_uri(setup.tracking_uri)
    run = mlflow.start_run(experiment_id=setup.experiment_id, run_name=tune.get_context().get_trial_name())
    mlflow.log_params({**config, "model": params.model, "train.epochs": params.train.epochs})
    state = {"checkpoint": None, "epochs": 0}

    def on_epoch_end(epoch: int, metrics: dict[str, float | None]) -> None:
        mlflow.log_metrics({f"valid_{k}": v for k, v in metrics.items() if v is not None}, step=epoch)
        _log_new_checkpoint(checkpoint_dir, state)
        state["epochs"] = epoch + 1
        tune.report({METRIC: metrics["accuracy"], "epoch": epoch + 1, "mlflow_run_id": run.info.run_id})

    try:
        summary = train_model(params, data, checkpoint_dir, folder / "dvclive", folder / "runs", on_epoch_end)
    except SystemExit:  # Ray ends a trial from inside `tune.report`: ASHA stopped it, or it ran all epochs
        mlflow.end_run("FINISHED" if state["epochs"] >= params.train.epochs else "KILLED")
        raise
    except BaseException:
        mlflow.end_run("FAILED")
        raise
    mlflow.log_metrics({k: v for k, v in summary.items() if isinstance(v, (int, float))})
    mlflow.end_run("FINISHED")


def _log_new_checkpoint(checkpoint_dir: Path, state: dict[str, Any]) -> None:
    """Upload the checkpoint folder when the trainer has just saved a better epoch into it."""
    import mlflow

    if not checkpoint_dir.is_dir():
        return
    stamp = max((f.stat().st_mtime_ns for f in checkpoint_dir.rglob("*") if f.is_file()), default=None)
    if stamp is not None and stamp != state["checkpoint"]:
        mlflow.log_artifacts(str(checkpoint_dir), artifact_path="checkpoint")
        state["checkpoint"] = stamp
