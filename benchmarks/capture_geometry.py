"""The competition's capture geometry, estimated from its own recordings and real videos of known frame size.

Usage: python benchmarks/capture_geometry.py [--recordings ../shared/data/gislr-sample]
                                             [--videos ../shared/data/videos] [--frames 60]
The shoulder/face ratio (pose 11–12 against face 10–152, `asl.inference.geometry.shoulder_face_ratio`) is measured
per recording (median over its frames) in the competition's normalised units, and per video in pixels (the body's
own proportion; landmarks from `extract_video`, its mapping undone with `to_frame`). Their medians give
the competition's frame aspect, width / height = pixel ratio / normalised ratio (the shoulders are level and the
face upright, so the ratio scales with the aspect). Per video: the ratio in its own normalised units (before the
mapping) and after it (what `extract_video` returns), which should be near the competition's. Prints one figure per line.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import typer
from figures import JSON_OPTION, Figures

from asl.inference.geometry import CAPTURE_ASPECT, recording_ratios, shoulder_face_ratio, to_frame

app = typer.Typer(add_completion=False)
SHARED = Path(__file__).resolve().parents[2] / "shared" / "data"


@app.command()
def main(recordings: Path = typer.Option(SHARED / "gislr-sample"), videos: Path = typer.Option(SHARED / "videos"),
         frames: int = typer.Option(60, help="frames sampled evenly per video (0: every frame)"),
         json: Path = JSON_OPTION) -> None:
    figures = Figures(json)  # before any work: the load average at the start
    from asl.inference.extract import extract_video
    from asl.inference.video import find_videos

    normalised = recording_ratios(recordings)
    median = float(np.median(normalised))
    low, high = np.percentile(normalised, [25, 75])
    p5, p95 = np.percentile(normalised, [5, 95])
    print(f"competition recordings with shoulders and face: {len(normalised)}")
    print(f"competition shoulder/face ratio, normalised units: median {median:.3f}, quartiles {low:.3f}-{high:.3f}, "
          f"5-95% {p5:.3f}-{p95:.3f}")
    print(f"competition spread, ratio / median: quartiles {low / median:.3f}-{high / median:.3f}, "
          f"5-95% {p5 / median:.3f}-{p95 / median:.3f}")
    pixel, mapped = [], []
    for video in find_videos([videos]):
        extraction = extract_video(video, frames or None)
        width, height = extraction.frame_size
        raw = to_frame(extraction.values, width / height)  # MediaPipe's own output, before the mapping
        pixel.append(shoulder_face_ratio(raw, width / height))
        mapped.append(shoulder_face_ratio(extraction.values))
        print(f"video {video.name} ({width}x{height}, {len(raw)} frames): ratio before mapping "
              f"{shoulder_face_ratio(raw):.3f}, in pixels {pixel[-1]:.3f}, after mapping {mapped[-1]:.3f} "
              f"({mapped[-1] / median:.3f} of the competition's)")
        figures.row(f"video {video.name}", {
            "size": f"{width}x{height}", "frames": len(raw), "ratio_before_mapping": round(shoulder_face_ratio(raw), 3),
            "ratio_in_pixels": round(pixel[-1], 3), "ratio_after_mapping": round(mapped[-1], 3),
            "after_mapping_over_competition": round(mapped[-1] / median, 3)})
    pixel_median = float(np.nanmedian(pixel))
    print(f"videos' shoulder/face ratio in pixels: median {pixel_median:.3f}, range {np.nanmin(pixel):.3f}-"
          f"{np.nanmax(pixel):.3f}")
    print(f"competition frame aspect (width / height) = {pixel_median:.3f} / {median:.3f} = "
          f"{pixel_median / median:.3f} (CAPTURE_ASPECT in asl/inference/geometry.py: {CAPTURE_ASPECT})")
    print(f"videos after mapping, ratio / competition's: {np.nanmin(mapped) / median:.3f}-"
          f"{np.nanmax(mapped) / median:.3f}")
    figures.row("competition recordings", {
        "recordings": len(normalised), "ratio_median": round(median, 3), "ratio_quartiles": f"{low:.3f}-{high:.3f}",
        "ratio_5_95_percent": f"{p5:.3f}-{p95:.3f}"})
    figures.row("frame aspect", {
        "videos_ratio_in_pixels_median": round(pixel_median, 3),
        "aspect_width_over_height": round(pixel_median / median, 3), "CAPTURE_ASPECT": CAPTURE_ASPECT,
        "videos_after_mapping_over_competition": f"{np.nanmin(mapped) / median:.3f}-{np.nanmax(mapped) / median:.3f}"})
    figures.write()


if __name__ == "__main__":
    app()
