"""Stage `evaluate`: score the best checkpoint on the whole test split, and on perturbed raw test recordings."""

from pathlib import Path

import typer

from asl.data.processed import load_processed, read_split_table
from asl.errors import exit_on_user_error
from asl.evaluation.evaluate import evaluate, evaluate_robustness
from asl.inference.predictor import load_predictor
from asl.io import atomic_path, write_csv, write_json
from asl.params import load_params
from asl.logs import quiet_libraries

quiet_libraries()  # before any library that logs at import

app = typer.Typer(add_completion=False)


@app.command()
@exit_on_user_error
def main(
    checkpoint: Path = typer.Option(..., help="the trained model: the train stage's checkpoint folder, or a model file"),
    values: Path = typer.Option(..., help="preprocessed .npy array"),
    meta: Path = typer.Option(..., help="its metadata CSV"),
    sign_map: Path = typer.Option(..., help="the sign map the labels refer to"),
    split: Path = typer.Option(..., help="split.csv of the split stage"),
    raw_dir: Path = typer.Option(..., help="Kaggle asl-signs folder: the raw test recordings, for robustness"),
    params: Path = typer.Option(Path("params.yaml")),
    metrics: Path = typer.Option(..., help="output: metrics JSON"),
    robustness: Path = typer.Option(..., help="output: accuracy per perturbation of the raw test recordings (JSON)"),
    predictions: Path = typer.Option(..., help="output: one row per test sequence (also the confusion plot)"),
    unscorable: Path = typer.Option(..., help="output: test rows whose file exists but cannot be used, and why"),
    report: Path = typer.Option(..., help="output: classification report (text)"),
) -> None:
    config = load_params(params)
    predictor = load_predictor(checkpoint, config.train.device)
    data = load_processed(values, meta, sign_map, split)
    result = evaluate(predictor, data, read_split_table(split), config)
    robust = evaluate_robustness(predictor, data, raw_dir, config)
    write_json(result.metrics, metrics)
    write_json(robust, robustness)
    write_csv(result.predictions, predictions)
    write_csv(result.unscorable, unscorable)
    with atomic_path(report) as temporary:
        temporary.write_text(result.report)
    m = result.metrics
    interval = "no interval: one test participant" if m["accuracy_ci95"] is None else (
        "95% CI {:.3f}-{:.3f}".format(*m["accuracy_ci95"]))
    typer.echo(f"test accuracy {m['accuracy']:.3f} ({interval}) on {m['n_test']} sequences ({m['split_strategy']} "
               f"split); {m['n_unscorable']} unscorable, {m['n_missing']} missing")
    for row in result.unscorable.itertuples():
        typer.echo(f"unscorable: {row.path}: {row.reason}: {row.detail}")


if __name__ == "__main__":
    app()
