"""How exactly the pipeline's training repeats: bit for bit when nothing changes, and how far its figures move when
only the CPU's arithmetic does (another vector instruction set, another number of threads, another maths library
path), as on another machine.

Usage: python benchmarks/reproducibility.py [--json PATH]
Runs clean, preprocess and split once on `data.raw_dir` of params.yaml (the built-in sample), then trains and
evaluates the default model with params.yaml as it is, once per setting, in a scratch folder removed at the end:
- `reference`, `rerun`: the same process twice;
- `one_thread`: OMP_NUM_THREADS=1 (one intra-op thread for torch and MKL);
- `aten_default_kernels`: ATEN_CPU_CAPABILITY=default (PyTorch's kernels without AVX2 or AVX-512: a CPU of another
  vector instruction set runs other kernels);
- `mkl_avx2_path`: MKL_CBWR=AVX2 (MKL's code path for AVX2 CPUs in place of the one it chooses for this one).
Per setting: whether the weights equal the reference's bit for bit, their largest absolute difference, and the test
accuracy and loss (metrics/eval.json as `evaluate` writes it). Prints one line per setting.
"""

from __future__ import annotations

import tempfile
from pathlib import Path

import torch
import typer
import yaml
from figures import JSON_OPTION, Figures
from zoo_accuracy import REPO, prepare, score

from asl.checkpoint import find_checkpoint

#: Each setting's environment variables, on top of this process's.
SETTINGS = {
    "reference": {},
    "rerun": {},
    "one_thread": {"OMP_NUM_THREADS": "1"},
    "aten_default_kernels": {"ATEN_CPU_CAPABILITY": "default"},
    "mkl_avx2_path": {"MKL_CBWR": "AVX2"},
}


def weights(checkpoint: Path) -> dict[str, torch.Tensor]:
    return torch.load(find_checkpoint(checkpoint), map_location="cpu", weights_only=True)["state_dict"]


def largest_difference(first: dict[str, torch.Tensor], second: dict[str, torch.Tensor]) -> float:
    """The largest absolute difference between two state dicts' floating-point tensors."""
    return max(float((first[name].double() - second[name].double()).abs().max())
               for name in first if first[name].is_floating_point())


def main(json_path: Path = JSON_OPTION) -> None:
    params = yaml.safe_load((REPO / "params.yaml").read_text())
    raw_dir = (REPO / params["data"]["raw_dir"]).resolve()
    figures = Figures(json_path, sections="setting")
    with tempfile.TemporaryDirectory(prefix="reproducibility-") as scratch:
        work = Path(scratch)
        (work / "params.yaml").write_text(yaml.safe_dump(params, sort_keys=False))
        data = prepare(raw_dir, work / "params.yaml", work)
        reference = None
        for name, environment in SETTINGS.items():
            run = work / name
            run.mkdir()
            metrics, _ = score(params, raw_dir, data, run, environment)
            trained = weights(run / "best")
            if reference is None:
                reference = trained
            row = {"environment": " ".join(f"{key}={value}" for key, value in environment.items()) or "as is",
                   "weights_equal_reference": all(torch.equal(trained[key], reference[key]) for key in reference),
                   "largest_weight_difference": f"{largest_difference(trained, reference):.1e}",
                   "test_accuracy": metrics["accuracy"], "test_loss": f"{metrics['loss']:.9f}"}
            print(f"{name}: " + ", ".join(f"{key} {value}" for key, value in row.items()), flush=True)
            figures.row(name, row)
    figures.write()


if __name__ == "__main__":
    typer.run(main)
