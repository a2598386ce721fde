"""Video path throughput on CPU: Holistic extraction, and the whole live loop with the share of each part.

Usage: python benchmarks/video.py [--video ../shared/data/videos/bad__thkazi.mp4] [--checkpoint models/best]
                                  [--framework tensorflow] [--repeats 3] [--width 640 --height 480]
Times exactly what the commands run: `extract_video` (what `asl extract` calls, every frame at the video's own
size) and `run_live` headless on a file source (what `asl predict camera --source FILE --headless` calls; drawing
included, only the window is left out). The live loop reads a width x height copy of the video written first, as a
camera of that size delivers its frames; it runs in turn with the inference graph the commands use
(`Predictor.freeze`: frozen TorchScript, or a `tf.function`) and with the eager model, and the ratio of their model
times is printed.
Without a checkpoint, or with `--framework`, an untrained model of params.yaml's `model` with the 250 GISLR signs
stands in: the model's cost does not depend on its weights. Prints one figure per line, medians of the repeats.
"""

from __future__ import annotations

import dataclasses
import os
import statistics
import tempfile
import time
from pathlib import Path
from typing import Optional

import typer
from figures import JSON_OPTION, Figures

from asl.inference.live import PARTS, LiveOptions, LoopStats, run_live
from asl.inference.recognize import SignRecognizer, load_recognizer

app = typer.Typer(add_completion=False)
REPO = Path(__file__).resolve().parents[1]


def untrained_checkpoint(params_path: Path, framework: str | None, work: Path) -> Path:
    """A checkpoint of an untrained model of params.yaml's `model` in `framework` (params.yaml's by default), of
    the same size and cost as a trained one."""
    from asl.data.inputs import InputPipeline
    from asl.data.sign_names import GISLR_SIGNS
    from asl.checkpoint import CHECKPOINT_FILES
    from asl.models.config import InputShape
    from asl.params import load_params

    params = load_params(params_path)
    params = dataclasses.replace(params, framework=framework or params.framework)
    if params.framework == "tensorflow":
        from asl.training.tf_trainer import build_model
    else:
        from asl.training.torch_trainer import build_model
    pipeline = InputPipeline.of(params)  # the model's own input: 384 frames of 118 points for Conv1DTransformer
    shape = InputShape(pipeline.frames, pipeline.landmarks, len(params.data.coordinates))
    model = build_model(params, shape, len(GISLR_SIGNS))
    path = work / CHECKPOINT_FILES[params.framework]
    model.save_checkpoint(path, {"signs": list(GISLR_SIGNS), "params": dataclasses.asdict(params),
                                 "inputs": pipeline.record()})
    return path


def resized_copy(video: Path, size: tuple[int, int], out: Path) -> Path:
    """The video re-encoded at `size` (width, height)."""
    import cv2

    from asl.inference.video import read_frames, video_info

    writer = cv2.VideoWriter(str(out), cv2.VideoWriter_fourcc(*"mp4v"), video_info(video).fps or 30.0, size)
    for _, frame in read_frames(video):
        writer.write(cv2.resize(frame, size, interpolation=cv2.INTER_AREA))
    writer.release()
    return out


def live_runs(source: Path, recognizers: list[SignRecognizer], repeats: int) -> list[list[LoopStats]]:
    """The runs of each recognizer, taking turns so that a change in the machine's load falls on all of them."""
    runs = [[] for _ in recognizers]
    for _ in range(repeats):
        for recognizer, its_runs in zip(recognizers, runs):
            its_runs.append(run_live(str(source), recognizer, LiveOptions(headless=True)))
    return runs


def per_frame_ms(runs: list[LoopStats], *parts: str) -> float:
    return statistics.median(sum(run.seconds[part] for part in parts) / run.frames for run in runs) * 1000


def timed(work, repeats: int) -> tuple[list[float], object]:
    times, result = [], None
    for _ in range(repeats):
        started = time.perf_counter()
        result = work()
        times.append(time.perf_counter() - started)
    return times, result


@app.command()
def main(
    video: Path = typer.Option(REPO.parent / "shared" / "data" / "videos" / "bad__thkazi.mp4"),
    checkpoint: Path = typer.Option(REPO / "models" / "best", help="falls back to an untrained model if absent"),
    params: Path = typer.Option(REPO / "params.yaml"),
    framework: Optional[str] = typer.Option(None, help="time an untrained model of this framework (pytorch or "
                                            "tensorflow) instead of the checkpoint"),
    repeats: int = typer.Option(3),
    width: int = typer.Option(640),
    height: int = typer.Option(480),
    json: Path = JSON_OPTION,
) -> None:
    figures = Figures(json)  # before any work: the load average at the start
    from asl.inference.extract import extract_video

    with tempfile.TemporaryDirectory() as folder:
        work = Path(folder)
        untrained = framework is not None or not checkpoint.exists()
        model = untrained_checkpoint(params, framework, work) if untrained else checkpoint
        frozen, eager = load_recognizer(model, "cpu", freeze=True), load_recognizer(model, "cpu", freeze=False)
        times, extraction = timed(lambda: extract_video(video), repeats)
        frames = len(extraction.frame_numbers)
        print(f"cpu cores available: {len(os.sched_getaffinity(0))}")
        graph = type(frozen.predictor.frozen).__name__ if frozen.predictor.frozen is not None else "none (eager)"
        print(f"model: {type(frozen.predictor.model).__name__} ({frozen.predictor.framework}), window "
              f"{frozen.frames} frames{' (untrained stand-in)' if untrained else ''}, inference graph: {graph}")
        print(f"extraction fps ({video.name}, {frames} frames, native size): {frames / statistics.median(times):.2f}")
        source = resized_copy(video, (width, height), work / f"{video.stem}_{width}x{height}.mp4")
        runs, eager_runs = live_runs(source, [frozen, eager], repeats)
    figures.record("video", f"{video.name} ({frames} frames)")
    figures.record("model", type(frozen.predictor.model).__name__ + (" (untrained stand-in)" if untrained else ""))
    figures.record("extraction_fps_native_size", round(frames / statistics.median(times), 2))
    fps = statistics.median(run.fps for run in runs)
    print(f"live loop fps ({width}x{height} file source, headless): {fps:.2f}")
    figures.record(f"live_loop_fps_{width}x{height}", round(fps, 2))
    for part in PARTS:
        share = statistics.median(run.shares()[part] for run in runs)
        print(f"live share {part}: {share:.3f} ({per_frame_ms(runs, part):.1f} ms per frame)")
        figures.record(f"live_{part}_ms_per_frame", round(per_frame_ms(runs, part), 1))
    model_share = statistics.median(run.shares()["model"] + run.shares()["preprocess"] for run in runs)
    print(f"live share preprocess+model: {model_share:.3f} (goal: under 0.1)")
    figures.record("live_share_preprocess_plus_model", round(model_share, 3))
    eager_ms, graph_ms = per_frame_ms(eager_runs, "model"), per_frame_ms(runs, "model")
    eager_fps = statistics.median(run.fps for run in eager_runs)
    print(f"live model ms per frame, eager / inference graph: {eager_ms:.2f} / {graph_ms:.2f} = "
          f"{eager_ms / graph_ms:.2f}x (eager loop {eager_fps:.2f} fps)")
    figures.record("live_model_ms_per_frame_eager", round(eager_ms, 2))
    figures.record("live_model_ms_per_frame_inference_graph", round(graph_ms, 2))
    figures.record("eager_loop_fps", round(eager_fps, 2))
    figures.write()

if __name__ == "__main__":
    app()
