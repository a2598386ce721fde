"""Video path throughput on CPU: Holistic extraction, and the whole live loop with the share of each part.

Usage: python benchmarks/video.py [--video ../shared/data/videos/bad__thkazi.mp4] [--checkpoint models/best]
                                  [--repeats 3] [--width 640 --height 480]
Times exactly what the commands run: `extract_video` (what `asl extract` calls, every frame at the video's own
size) and `run_live` headless on the video as a file source with frames resized to width x height (what
`asl predict camera --source FILE --headless` calls; drawing included, only the window is left out). Without a
checkpoint, an untrained model of params.yaml's `model` with the 250 GISLR signs stands in: the model's cost does
not depend on its weights. Prints one figure per line, medians of the repeats.
"""

from __future__ import annotations

import dataclasses
import os
import statistics
import tempfile
import time
from pathlib import Path

import typer

from asl.inference.live import PARTS, LiveOptions, run_live
from asl.inference.recognize import SignRecognizer, load_recognizer

app = typer.Typer(add_completion=False)
REPO = Path(__file__).resolve().parents[1]


def untrained_recognizer(params_path: Path, work: Path) -> SignRecognizer:
    """A recognizer around an untrained model of params.yaml's `model` (same size and cost as a trained one)."""
    from asl.data.sign_names import GISLR_SIGNS
    from asl.landmarks import N_SELECTED
    from asl.models.config import InputShape
    from asl.params import load_params
    from asl.training.torch_trainer import build_model

    params = load_params(params_path)
    shape = InputShape(params.preprocess.frames, N_SELECTED, len(params.data.coordinates))
    model = build_model(params, shape, len(GISLR_SIGNS))
    model.save_checkpoint(work / "model.pt", {"signs": list(GISLR_SIGNS), "params": dataclasses.asdict(params)})
    return load_recognizer(work / "model.pt", "cpu")


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
    repeats: int = typer.Option(3),
    width: int = typer.Option(640),
    height: int = typer.Option(480),
) -> None:
    from asl.inference.extract import extract_video

    with tempfile.TemporaryDirectory() as work:
        recognizer = (load_recognizer(checkpoint, "cpu") if checkpoint.exists()
                      else untrained_recognizer(params, Path(work)))
        times, extraction = timed(lambda: extract_video(video), repeats)
        frames = len(extraction.frame_numbers)
        print(f"cpu cores available: {len(os.sched_getaffinity(0))}")
        print(f"model: {type(recognizer.predictor.model).__name__}, window {recognizer.frames} frames"
              f"{'' if checkpoint.exists() else ' (untrained stand-in)'}")
        print(f"extraction fps ({video.name}, {frames} frames, native size): {frames / statistics.median(times):.2f}")
        runs = [run_live(str(video), recognizer, LiveOptions(headless=True, size=(width, height)))
                for _ in range(repeats)]
    fps = statistics.median(run.fps for run in runs)
    print(f"live loop fps ({width}x{height}, file source, headless): {fps:.2f}")
    for part in PARTS:
        share = statistics.median(run.shares()[part] for run in runs)
        per_frame = statistics.median(run.seconds[part] / run.frames for run in runs)
        print(f"live share {part}: {share:.3f} ({per_frame * 1000:.1f} ms per frame)")
    model_share = statistics.median(run.shares()["model"] + run.shares()["preprocess"] for run in runs)
    print(f"live share preprocess+model: {model_share:.3f} (goal: under 0.1)")


if __name__ == "__main__":
    app()
