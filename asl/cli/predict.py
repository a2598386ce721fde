"""`asl extract` and `asl predict video|landmarks|camera`: landmarks and signs from videos, landmark files and the
camera."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Optional

import typer

from asl.cli.options import CheckpointOption, JsonOption, TorchDeviceOption
from asl.errors import AslError, exit_on_user_error, warn

predict_app = typer.Typer(add_completion=False, no_args_is_help=True,
                          help="Predict signs from video files or the camera with a trained checkpoint.")
DEFAULT_CHECKPOINT = Path("models/best")
COMPLEXITY_HELP = "MediaPipe Holistic model_complexity (only 1 ships with mediapipe 0.10.21)"


def _load_recognizer(checkpoint: Path, device: str):
    """The checkpoint's recognizer; says on stderr when it was trained on the built-in sample, not real data."""
    from asl.checkpoint import training_data_note
    from asl.inference.recognize import load_recognizer

    recognizer = load_recognizer(checkpoint, device)
    note = training_data_note(recognizer.predictor.extras)
    if note:
        typer.echo(note, err=True)
    return recognizer


def _report_failures(failures: dict[str, str], total: int, what: str = "videos") -> None:
    for message in failures.values():
        typer.echo(f"error: {message}", err=True)
    if failures:
        raise AslError(f"{len(failures)} of {total} {what} failed")


@exit_on_user_error
def extract(
    videos: Optional[list[Path]] = typer.Argument(None, help="video files or folders of videos"),
    out: Path = typer.Option(..., help="output folder"),
    frames: Optional[int] = typer.Option(None, help="sample this many frames evenly (default: every frame)"),
    dataset: bool = typer.Option(False, "--dataset", help="write a raw-layout training dataset: signs from names "
                                 "<sign>__<anything>.mp4 or from --labels"),
    labels: Optional[Path] = typer.Option(None, help="CSV of video,sign (implies --dataset; videos relative to it)"),
    participant: Optional[str] = typer.Option(None, help="participant id of the dataset (default: --out's name)"),
    model_complexity: int = typer.Option(1, help=COMPLEXITY_HELP),
) -> None:
    """Extract MediaPipe Holistic landmarks: one Kaggle-schema parquet per video, or a training dataset."""
    from asl.inference.video import find_videos

    videos = videos or []
    if not videos and labels is None:
        raise AslError("give video files or folders, or --labels CSV")
    if labels is not None or dataset:
        return _extract_dataset(videos, out, frames, labels, participant or out.resolve().name, model_complexity)
    from asl.inference.extract import extract_video, write_landmarks

    found, failures = find_videos(videos), {}
    for video in found:
        try:
            extraction = extract_video(video, frames, model_complexity)
            path = write_landmarks(extraction, out / f"{video.stem}.parquet")
            typer.echo(f"{video}: {len(extraction.frame_numbers)} frames → {path}")
        except AslError as error:
            failures[str(video)] = str(error)
    _report_failures(failures, len(found))


def _extract_dataset(videos: list[Path], out: Path, frames: int | None, labels: Path | None, participant: str,
                     model_complexity: int) -> None:
    from asl.inference.video_dataset import build_video_dataset, labels_from_names, read_labels
    from asl.inference.video import find_videos

    labelled = read_labels(labels) if labels is not None else labels_from_names(find_videos(videos))
    if labels is not None and videos:
        typer.echo("note: with --labels the videos come from the CSV; the arguments are ignored", err=True)

    def progress(video, report):
        if str(video) not in report.failed:
            typer.echo(f"{video}: {report.written[-1]['sign']} → {out / report.written[-1]['path']}")

    report = build_video_dataset(labelled, out, participant, frames, model_complexity, progress)
    typer.echo(f"{len(report.written)} of {len(labelled)} videos written to {out} (participant {participant})")
    _report_failures(report.failed, len(labelled))


@predict_app.command("video")
@exit_on_user_error
def predict_video_command(
    paths: list[Path] = typer.Argument(..., help="video files or folders of videos"),
    checkpoint: CheckpointOption = DEFAULT_CHECKPOINT,
    top: int = typer.Option(5, help="how many signs to show per video"),
    out: Optional[Path] = typer.Option(None, help="annotated copy of the video (.mp4); with several videos, a "
                                       "folder for one copy each"),
    as_json: JsonOption = False,
    random_pick: bool = typer.Option(False, "--random", help="predict one video picked at random from the folder"),
    frames: Optional[int] = typer.Option(None, help="sample this many frames evenly (default: every frame)"),
    model_complexity: int = typer.Option(1, help=COMPLEXITY_HELP),
    device: TorchDeviceOption = "cpu",
) -> None:
    """The top signs of each video, and optionally an annotated copy with the landmark mesh and predictions."""
    from asl.inference.predict_video import predict_video, prediction_record, write_annotated_video
    from asl.inference.video import find_videos, random_video

    if random_pick:
        if len(paths) != 1 or not paths[0].is_dir():
            raise AslError("--random needs exactly one folder of videos")
        videos = [random_video(paths[0])]
    else:
        videos = find_videos(paths)
    recognizer = _load_recognizer(checkpoint, device)
    records, failures = [], {}
    for video in videos:
        try:
            prediction = predict_video(video, recognizer, top, frames, model_complexity)
            for message in prediction.warnings:
                warn(f"{video}: {message}")
            record = prediction_record(prediction)
            if out is not None:
                target = out if len(videos) == 1 else out / f"{video.stem}_annotated.mp4"
                record["annotated"], record["annotated_frames"] = str(target), write_annotated_video(prediction, target)
        except AslError as error:
            failures[str(video)] = str(error)
            continue
        records.append(record)
        if not as_json:
            shown = ", ".join(f"{p['sign']} {p['probability']:.3f}" for p in record["predictions"])
            typer.echo(f"{video}: {shown}")
    if as_json:
        typer.echo(json.dumps({"videos": records, "failed": failures}, indent=2))
    _report_failures(failures, len(videos))


@predict_app.command("landmarks")
@exit_on_user_error
def predict_landmarks_command(
    files: list[Path] = typer.Argument(..., help="landmark parquet files in the Kaggle schema (e.g. `asl extract`'s)"),
    checkpoint: CheckpointOption = DEFAULT_CHECKPOINT,
    top: int = typer.Option(5, help="how many signs to show per file"),
    as_json: JsonOption = False,
    device: TorchDeviceOption = "cpu",
) -> None:
    """The top signs of landmark files, each checked by the landmark validator first (as `asl validate`)."""
    from asl.data.raw import COORDINATES, read_landmarks
    from asl.inference.predict_video import prediction_fields

    recognizer = _load_recognizer(checkpoint, device)
    records, failures = [], {}
    for path in files:
        try:
            raw = read_landmarks(path, COORDINATES).values  # its errors name the file
        except AslError as error:
            failures[str(path)] = str(error)
            continue
        try:
            predictions = recognizer.predict(raw, top)
        except AslError as error:
            failures[str(path)] = f"{path}: {error}"
            continue
        warnings = recognizer.input_warnings(raw)
        for message in warnings:
            warn(f"{path}: {message}")
        records.append({"file": str(path), **prediction_fields(raw, predictions, warnings)})
        if not as_json:
            typer.echo(f"{path}: " + ", ".join(f"{p.sign} {p.probability:.3f}" for p in predictions))
    if as_json:
        typer.echo(json.dumps({"files": records, "failed": failures}, indent=2))
    _report_failures(failures, len(files), "files")


@predict_app.command("camera")
@exit_on_user_error
def predict_camera_command(
    device: int = typer.Option(0, help="camera index"),
    source: Optional[Path] = typer.Option(None, help="a video file to read instead of the camera"),
    checkpoint: CheckpointOption = DEFAULT_CHECKPOINT,
    headless: bool = typer.Option(False, "--headless", help="no window: print the predictions over time"),
    top: int = typer.Option(5, help="how many signs to show"),
    width: int = typer.Option(640, help="frames are resized to this width (0: keep)"),
    height: int = typer.Option(480, help="frames are resized to this height (0: keep)"),
    max_frames: Optional[int] = typer.Option(None, help="stop after this many frames"),
    model_complexity: int = typer.Option(1, help=COMPLEXITY_HELP),
) -> None:
    """Live recognition from the camera (q or Ctrl-C ends it), or from --source FILE."""
    from asl.inference.live import LiveOptions, run_live

    recognizer = _load_recognizer(checkpoint, "cpu")
    options = LiveOptions(headless=headless, size=(width, height) if width and height else None, top=top,
                          max_frames=max_frames, model_complexity=model_complexity)

    def report(frame: int, predictions) -> None:
        if headless:
            typer.echo(f"frame {frame}: " + ", ".join(f"{p.sign} {p.probability:.3f}" for p in predictions))

    stats = run_live(str(source) if source is not None else device, recognizer, options, report)
    skipped = f", {stats.skipped} camera frames skipped (newer ones had arrived)" if stats.skipped else ""
    typer.echo(f"{stats.frames} frames, {stats.predictions} predictions, {stats.fps:.1f} frames per second{skipped}")
