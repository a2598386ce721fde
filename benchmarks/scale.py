"""The pipeline at the competition's size: a generated dataset of GISLR's shape through clean, preprocess and split,
then a whole training epoch of the default model against its step alone.

Usage: python benchmarks/scale.py [--sequences-per-sign 378] [--raw-dir DIR] [--workers 2] [--device cpu --device cuda]
       [--max-train-sequences N] [--repeats 3] [--scratch-dir DIR] [--params params.yaml] [--no-fast-dev-run] [--cold]
       [--variant NAME:key=value[,key=value...] ...] [--no-train-params]
The dataset is `asl.data.sample.generate_sample` with 21 participants, 250 signs, `--sequences-per-sign` recordings
of each (378: 94,500, the competition's 94,477) of 1 to 500 frames, written into a scratch folder that is removed
at the end (`--raw-dir` reuses a dataset in the raw layout instead, and keeps it). `clean`, `preprocess` and `split`
run as `dvc repro` runs them: their dvc.yaml commands, as subprocesses, with params.yaml's values (data.raw_dir
pointing at the dataset, data.workers from `--workers`); each stage's peak memory is the largest sum of the RSS,
and of the PSS, of its process and all its children, sampled every 0.1 s (`PeakMemory`), and `<stage>_read_gb`
what they read from the disk (the reaped children's `ru_inblock`). `--cold` first runs clean then preprocess with
the raw files evicted from the page cache once before them (posix_fadvise DONTNEED on every file:
`clean_plus_preprocess_cold_start_s`, `dvc repro` from a cold disk: preprocess finds in the cache what clean read and
memory could keep), then each of them with the files evicted just before it (`clean_cold_s`, `preprocess_cold_s`: as
from a disk that holds far more than memory can cache), before the usual run (`clean_s`: warm where the dataset fits
the cache). With `--fast-dev-run` (the default) the `train` stage runs too, with `train.fast_dev_run: true` (two
batches of an epoch, two of validation) on the whole store, as
`dvc exp run -S train.fast_dev_run=true train` would. Then, per device, the default model (params.yaml
`model`, train.* settings) trains one epoch through the trainer's own `train_epoch` (loader, augmentation, device
copies, metrics) and the same steps on resident batches (the ceiling: the very batches of that epoch, in its order
and padding, put on the device beforehand by the loader alone, whose time is the loader figure; no augmentation), and
the augmentation alone on those batches; all after one warm-up epoch, which on CUDA also counts the calls where the
host waits for the device (`warm_up_host_waits`; `..._at`: the five places with most, compilation's included).
`--max-train-sequences` caps the epoch (on a slow CPU, and to keep an epoch's batches in device memory); `--repeats`
epochs are timed, each with its loader pass, resident steps and augmentation, and the medians printed.
Each `--variant` trains the same way again with its params overrides (e.g. `bf16:train.precision=bf16,
train.batch_size=256`), its figures named `train_<device>_<NAME>_...` (`--no-train-params`: the variants alone).
A variant with `framework=tensorflow` measures the TensorFlow trainer likewise, on the CPU, with the times its step
was traced (`step_traces`: at its first call only, however the batches' shapes differ).
Prints one figure per line, ratios last in each group.
"""

from __future__ import annotations

import collections
import contextlib
import math
import os
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import warnings
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import psutil
import torch
import typer
import yaml
from figures import JSON_OPTION, Figures

from asl.data.inputs import InputPipeline, StoreInputs
from asl.data.processed import load_processed
from asl.data.sample import generate_sample
from asl.logs import quiet_libraries
from asl.params import SampleConfig, load_params
from asl.training import torch_trainer
from asl.training.precision import mixed_precision
from asl.tune.space import with_overrides

quiet_libraries()  # before TensorFlow (its variants) logs its start and every dataset's end

REPO = Path(__file__).resolve().parents[1]
STAGES = ("clean", "preprocess", "split")
app = typer.Typer(add_completion=False)


class PeakMemory:
    """The largest sums of the RSS and of the PSS of a process and its children, sampled every `interval` seconds in
    a thread. PSS shares each page among the processes that map it: forked workers' copy-on-write pages count once,
    which the RSS sum counts in every process."""

    def __init__(self, pid: int, interval: float = 0.1) -> None:
        self.process, self.interval, self.rss, self.pss = psutil.Process(pid), interval, 0, 0
        self._done = threading.Event()
        self._thread = threading.Thread(target=self._sample, daemon=True)
        self._thread.start()

    def _sample(self) -> None:
        while not self._done.is_set():
            try:
                tree = [self.process, *self.process.children(recursive=True)]
            except psutil.NoSuchProcess:
                return
            rss = pss = 0
            for process in tree:
                try:
                    memory = process.memory_full_info()
                except (psutil.NoSuchProcess, psutil.AccessDenied):  # a worker that ended between listing and reading
                    continue
                rss, pss = rss + memory.rss, pss + getattr(memory, "pss", memory.rss)  # (PSS: Linux only)
            self.rss, self.pss = max(self.rss, rss), max(self.pss, pss)
            self._done.wait(self.interval)

    def stop(self) -> None:
        self._done.set()
        self._thread.join()


@dataclass(frozen=True)
class StageRun:
    seconds: float
    peak_rss: int  # bytes
    peak_pss: int
    read: int  # bytes read from block devices by the stage and its workers

    def print(self, prefix: str) -> None:
        """The run's figures, named `<prefix>_s`, `_peak_rss_mb`, `_peak_pss_mb`, `_read_gb`."""
        print(f"{prefix}_s: {self.seconds:.1f}")
        print(f"{prefix}_peak_rss_mb: {self.peak_rss / 2**20:.0f}")
        print(f"{prefix}_peak_pss_mb: {self.peak_pss / 2**20:.0f}")
        print(f"{prefix}_read_gb: {self.read / 1e9:.2f}")


def stage_command(name: str, raw_dir: Path) -> list[str]:
    """A stage's dvc.yaml command, with the dataset as `${data.raw_dir}` and this Python; run in the scratch folder,
    so its data/ paths land there (the params file it names, params.yaml, is written there too)."""
    command = yaml.safe_load((REPO / "dvc.yaml").read_text())["stages"][name]["cmd"]
    command = command.replace("${data.raw_dir}", str(raw_dir))
    words = command.split()
    assert words[0] == "python" and words[1].startswith("stages/"), command
    return [sys.executable, str(REPO / words[1]), *words[2:]]


def run_stage(name: str, raw_dir: Path, work: Path) -> StageRun:
    """One stage, run as a subprocess in `work`: its seconds, peak memory and bytes read."""
    environment = {**os.environ, "PYTHONPATH": os.pathsep.join(filter(None, [str(REPO),
                                                                             os.environ.get("PYTHONPATH")]))}
    read = children_bytes_read()
    start = time.perf_counter()
    process = subprocess.Popen(stage_command(name, raw_dir), cwd=work, env=environment, stdout=subprocess.DEVNULL,
                               stderr=subprocess.PIPE, text=True)
    memory = PeakMemory(process.pid)
    _, errors = process.communicate()
    seconds = time.perf_counter() - start
    memory.stop()
    if process.returncode != 0:
        raise SystemExit(f"error: stage {name} failed:\n{errors}")
    return StageRun(seconds, memory.rss, memory.pss, children_bytes_read() - read)


def children_bytes_read() -> int:
    """Bytes read from block devices by this process's reaped children (and theirs): a stage's is the change
    across its `run_stage`, its pool workers included (the stage reaps them)."""
    return resource.getrusage(resource.RUSAGE_CHILDREN).ru_inblock * 512


def evict_from_page_cache(folder: Path) -> int:
    """Drop every file of `folder` from the page cache (written pages are flushed first); return the files."""
    os.sync()  # DONTNEED leaves dirty pages cached
    files = 0
    for path in folder.rglob("*"):
        if path.is_file():
            descriptor = os.open(path, os.O_RDONLY)
            try:
                os.posix_fadvise(descriptor, 0, 0, os.POSIX_FADV_DONTNEED)
            finally:
                os.close(descriptor)
            files += 1
    return files


def write_stage_params(params: Path, raw_dir: Path, workers: int, work: Path, fast_dev_run: bool = False) -> None:
    raw = yaml.safe_load(params.read_text())
    raw["data"].update(raw_dir=str(raw_dir), workers=workers)
    raw["train"]["fast_dev_run"] = fast_dev_run or raw["train"]["fast_dev_run"]
    (work / "params.yaml").write_text(yaml.safe_dump(raw, sort_keys=False))


def synchronize(device: torch.device) -> None:
    if device.type == "cuda":
        torch.cuda.synchronize(device)


@contextlib.contextmanager
def synchronizing_calls(device: torch.device):
    """Count the calls that make the host wait for the CUDA device, by place (torch's sync debug mode warns at each
    one): a training loop that keeps a GPU busy makes none per step."""
    calls: collections.Counter = collections.Counter()
    if device.type != "cuda":
        yield calls
        return
    torch.cuda.set_sync_debug_mode("warn")
    try:
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            yield calls
    finally:
        torch.cuda.set_sync_debug_mode("default")
    calls.update(f"{Path(warning.filename).name}:{warning.lineno}" for warning in caught
                 if "synchroniz" in str(warning.message))


def parse_variant(text: str) -> tuple[str, dict]:
    """`NAME:key=value,key=value` (dotted params keys, YAML values) → (NAME, overrides)."""
    name, _, settings = text.partition(":")
    if not name.isidentifier() or not settings:
        raise typer.BadParameter(f"{text!r}: expected NAME:key=value[,key=value...], e.g. bf16:train.precision=bf16")
    pairs = [setting.split("=", 1) for setting in settings.split(",")]
    if any(len(pair) != 2 for pair in pairs):
        raise typer.BadParameter(f"{text!r}: each setting is key=value")
    return name, {key.strip(): yaml.safe_load(value) for key, value in pairs}


def training_figures(config, data, inputs: StoreInputs, device: torch.device, max_sequences: int | None,
                     repeats: int, label: str) -> None:
    """Sequences/s of one epoch through `train_epoch` and of the same steps on resident batches (medians of
    `repeats`); their ratio. `inputs`: the model's inputs of `data`'s store; figures named `train_<label>_...`."""
    torch_trainer.seed_everything(config.seed, config.train.deterministic)
    precision = mixed_precision(config.train.precision, device)
    rows = np.flatnonzero(data.split == "train")
    model = torch_trainer.build_model(config, torch_trainer.InputShape(*inputs.shape[1:]),
                                      len(data.signs)).to(device)
    optimizer, _ = model.configure_optimizers()
    batch_size = config.train.batch_size
    groups = inputs.pipeline.groups
    compile_augmentation = torch_trainer.compile_training(model, config, precision, device, groups)
    train_set = torch_trainer.LandmarkDataset(inputs, data.labels, rows)
    augmenter = torch_trainer.apply_callbacks(model, 0, config, groups, compile_augmentation)
    generator = torch.Generator().manual_seed(config.seed)
    loader = torch_trainer.training_loader(train_set, config, generator, device)
    batches = min(len(loader), math.ceil(max_sequences / batch_size) if max_sequences else len(loader))
    sequences = min(len(rows), batches * batch_size)
    epochs, ceilings, loading, augmenting = [], [], [], []
    for repeat in range(repeats):  # in turns, so a change of load on a shared machine hits all four
        order = generator.get_state()
        start = time.perf_counter()
        resident = [tuple(part.to(device, non_blocking=True) for part in batch)
                    for _, batch in zip(range(batches), loader)]
        synchronize(device)
        loading.append(time.perf_counter() - start)
        if repeat == 0:  # warm-up: allocations, kernels, compiled shapes; the host's waits for the device counted
            generator.set_state(order)
            with synchronizing_calls(device) as calls:
                torch_trainer.train_epoch(model, loader, optimizer, device, batches, repeat, precision, augmenter)
            synchronize(device)
        generator.set_state(order)  # the epoch draws the same order: the very batches now resident
        start = time.perf_counter()
        torch_trainer.train_epoch(model, loader, optimizer, device, batches, repeat, precision, augmenter)
        epochs.append(time.perf_counter() - start)
        start = time.perf_counter()
        for x, mask, labels in resident:
            model.training_step(x, mask, labels, optimizer, precision)
        synchronize(device)
        ceilings.append(time.perf_counter() - start)
        start = time.perf_counter()
        for step, (x, mask, _) in enumerate(resident):
            augmenter(x, mask, repeat, step)
        synchronize(device)
        augmenting.append(time.perf_counter() - start)
    print(f"train_{label}_sequences: {sequences} of {len(rows)} training rows (batch {batch_size}, precision "
          f"{config.train.precision}, compile {str(config.train.compile).lower()}, "
          f"num_workers {config.train.num_workers}, store_on_device {str(config.train.store_on_device).lower()}, "
          f"median of {repeats})")
    waits = {}
    if device.type == "cuda":
        waits = {"warm_up_host_waits": f"{sum(calls.values())} in {batches} steps",
                 "warm_up_host_waits_at": ", ".join(f"{place} ({count})" for place, count in calls.most_common(5))
                 or "none"}
    print_epoch_figures(label, sequences, epochs, ceilings, loading, augmenting, waits)


def print_epoch_figures(label: str, sequences: int, epochs: list[float], ceilings: list[float],
                        loading: list[float], augmenting: list[float], extra: dict[str, str]) -> None:
    """Each trainer's figures from its timed seconds (medians): sequences/s of the whole epoch, of the steps on
    resident batches, of the loader and of the augmentation alone; then `extra` figures; the ratio last."""
    epoch, ceiling = statistics.median(epochs), statistics.median(ceilings)
    print(f"train_{label}_epoch_sequences_per_s: {sequences / epoch:.0f}")
    print(f"train_{label}_resident_step_sequences_per_s: {sequences / ceiling:.0f}")
    print(f"train_{label}_loader_alone_sequences_per_s: {sequences / statistics.median(loading):.0f}")
    print(f"train_{label}_augment_alone_sequences_per_s: {sequences / statistics.median(augmenting):.0f}")
    for name, value in extra.items():
        print(f"train_{label}_{name}: {value}")
    print(f"train_{label}_epoch_over_resident_step: {epoch / ceiling:.2f}")


def tensorflow_training_figures(config, data, inputs: StoreInputs, max_sequences: int | None, repeats: int,
                                label: str) -> None:
    """`training_figures` of the TensorFlow trainer (`framework: tensorflow`), on the CPU: one epoch through its
    `train_epoch` (the tf.data pipeline: batches read and augmented in parallel, then prefetched) against the same
    traced step on that epoch's batches, read beforehand without augmentation (the loader figure)."""
    import tensorflow as tf

    from asl.data.inputs import input_groups
    from asl.data.tf_data import LandmarkBatches
    from asl.training import tf_trainer
    from asl.training.callbacks import epoch_augmenter

    tf.keras.utils.set_random_seed(config.seed)
    rows = np.flatnonzero(data.split == "train")
    batch_size = config.train.batch_size
    batches = LandmarkBatches(inputs, data.labels, rows, batch_size, config.seed,
                              bucket_by_length=config.train.bucket_by_length)
    steps = min(len(batches), math.ceil(max_sequences / batch_size) if max_sequences else len(batches))
    sequences = min(len(rows), steps * batch_size)
    with tf.device("/CPU:0"):
        model = tf_trainer.build_model(config, tf_trainer.InputShape(*inputs.shape[1:]), len(data.signs))
        step = tf_trainer.make_train_step(model, model.configure_optimizers(steps, repeats + 1),
                                          config.train.label_smoothing, config.train.awp.strength_at(0))
        augmenter = epoch_augmenter(0, config, input_groups(inputs), model.input_shape.frames)
        epochs, ceilings, loading, augmenting = [], [], [], []
        for repeat in range(repeats + 1):  # the first: a warm-up (tracing, allocations), not timed
            start = time.perf_counter()
            resident = list(batches.epoch(repeat).take(steps))
            loading.append(time.perf_counter() - start)
            start = time.perf_counter()
            tf_trainer.train_epoch(step, batches.epoch(repeat, augmenter).take(steps), steps, repeat)
            epochs.append(time.perf_counter() - start)
            start = time.perf_counter()
            for (values, mask), labels in resident:
                loss, _ = step(values, mask, labels)
            float(loss)
            ceilings.append(time.perf_counter() - start)
            start = time.perf_counter()
            for index, ((values, mask), _) in enumerate(resident):
                augmenter(values.numpy(), mask.numpy(), repeat, index)
            augmenting.append(time.perf_counter() - start)
    print(f"train_{label}_sequences: {sequences} of {len(rows)} training rows (batch {batch_size}, TensorFlow "
          f"{tf.__version__}, median of {repeats})")
    print_epoch_figures(label, sequences, epochs[1:], ceilings[1:], loading[1:], augmenting[1:],
                        {"step_traces": f"{step.experimental_get_tracing_count()} in {repeats + 1} epochs"})


@app.command()
def main(sequences_per_sign: int = typer.Option(378, help="recordings of each of the 250 signs (378: full size)"),
         raw_dir: Path = typer.Option(None, help="reuse this dataset (raw layout) instead of generating one"),
         workers: int = typer.Option(None, help="data.workers for generation and the stages (default: params)"),
         device: list[str] = typer.Option(["cpu", "cuda"], help="devices to train on (cuda: when present)"),
         max_train_sequences: int = typer.Option(None, help="cap the timed epoch at this many sequences"),
         scratch_dir: Path = typer.Option(None, help="where the scratch folder goes (default: the system's)"),
         repeats: int = typer.Option(3, help="timed epochs (each against its resident-batch steps)"),
         fast_dev_run: bool = typer.Option(True, help="also run the train stage with train.fast_dev_run: true"),
         variant: list[str] = typer.Option([], help="also train with these settings: NAME:key=value[,key=value] "
                                                    "(dotted params keys), figures named train_<device>_NAME_..."),
         train_params: bool = typer.Option(True, help="train as params sets it (--no-train-params: variants only)"),
         cold: bool = typer.Option(False, help="also time clean and preprocess with the raw files evicted from the "
                                               "page cache before each (clean_cold_s, preprocess_cold_s)"),
         params: Path = Path("params.yaml"), json: Path = JSON_OPTION) -> None:
    figures = Figures(json).capture()  # records every `name: value` line printed below
    config = load_params(params)
    variants = [("", config)] * train_params + [(name, with_overrides(config, overrides, f"--variant {name}"))
                                                for name, overrides in map(parse_variant, variant)]  # checked first
    workers = workers or config.data.workers
    work = Path(tempfile.mkdtemp(prefix="asl-scale-", dir=scratch_dir))
    try:
        if raw_dir is None:
            raw_dir = work / "raw"
            sample = SampleConfig(participants=21, signs=250, sequences_per_sign=sequences_per_sign, min_frames=1,
                                  max_frames=500)
            start = time.perf_counter()
            generate_sample(raw_dir, sample, config.seed, workers)
            seconds = time.perf_counter() - start
            files = sum(1 for _ in (raw_dir / "train_landmark_files").rglob("*.parquet"))
            print(f"generated_recordings: {files}")
            print(f"generate_s: {seconds:.1f}")
            print(f"generate_files_per_s: {files / seconds:.0f}")
        raw_dir = raw_dir.resolve()
        print(f"raw_dir_gb: {sum(p.stat().st_size for p in raw_dir.rglob('*') if p.is_file()) / 1e9:.2f}")
        write_stage_params(params, raw_dir, workers, work)
        print(f"workers: {workers}")
        if cold:  # as `dvc repro` from a cold disk: the files evicted once, then the stages one after the other
            evict_from_page_cache(raw_dir)
            cold_start = [run_stage(name, raw_dir, work) for name in ("clean", "preprocess")]
            print(f"clean_plus_preprocess_cold_start_s: {sum(run.seconds for run in cold_start):.1f}")
            print(f"clean_plus_preprocess_cold_start_read_gb: {sum(run.read for run in cold_start) / 1e9:.2f}")
        total = cold_total = 0.0
        for name in STAGES:
            if cold and name != "split":
                evict_from_page_cache(raw_dir)
                run = run_stage(name, raw_dir, work)
                cold_total += run.seconds
                run.print(f"{name}_cold")
            run = run_stage(name, raw_dir, work)
            total += run.seconds if name != "split" else 0.0
            run.print(name)
        print(f"clean_plus_preprocess_s: {total:.1f}")
        if cold:
            print(f"clean_plus_preprocess_cold_s: {cold_total:.1f}")
        if fast_dev_run:  # the train stage itself on the whole store: its code path at full size
            write_stage_params(params, raw_dir, workers, work, fast_dev_run=True)
            run_stage("train", raw_dir, work).print("train_fast_dev_run")
        processed = work / "data" / "processed"
        data = load_processed(processed / "landmarks.npy", processed / "meta.csv", processed / "sign_map.json",
                              work / "data" / "interim" / "split.csv")
        print(f"store_recordings: {len(data.store)}")
        print(f"store_frames: {len(data.store.values)} ({' x '.join(map(str, data.store.values.shape[1:]))} "
              f"{data.store.values.dtype} each)")
        print(f"store_disk_mb: {sum(p.stat().st_size for p in processed.iterdir()) / 2**20:.1f}")
        print(f"store_memory_mb: {(data.store.values.nbytes + data.meta.memory_usage(deep=True).sum()) / 2**20:.1f}")
        for name in device:
            if name == "cuda" and not torch.cuda.is_available():
                print("train_cuda: no CUDA device here")
                continue
            for variant_name, variant_config in variants:
                label = f"{name}_{variant_name}" if variant_name else name
                inputs = StoreInputs(data.store, InputPipeline.of(variant_config))
                if variant_config.framework == "pytorch":
                    training_figures(variant_config, data, inputs, torch.device(name), max_train_sequences, repeats,
                                     label)
                elif name == "cpu":
                    tensorflow_training_figures(variant_config, data, inputs, max_train_sequences, repeats, label)
                else:
                    print(f"train_{label}: TensorFlow is measured on the CPU only")
        figures.write()
    finally:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    app()
