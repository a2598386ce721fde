"""Print a benchmark's figures and, with `--json PATH`, record them with the command, commit and machine.

The docs' figure tables are rendered from these records (`scripts/docs_figures.py`), never typed by hand.
A record is {"benchmark", "command", "commit", "machine", "date", "figures"}; `figures` maps a figure's name to
the value printed, or a section's name (a model, a video) to its own figures.
"""

import datetime
import numbers
import os
import platform
import shlex
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import typer

from asl.io import write_json

REPO = Path(__file__).resolve().parent.parent
JSON_OPTION = typer.Option(None, "--json", help="also write the figures, command, commit and machine to this "
                                                "JSON file (docs/results/<name>.json feeds the docs' tables)")


def printed_value(text: str) -> Any:
    """The number `text` shows (an int when it has no fraction), or `text` itself."""
    for kind in (int, float):
        try:
            return kind(text)
        except ValueError:
            pass
    return text


#: What a record says of a run that stopped before its end.
INCOMPLETE = "The run stopped before its end (a time limit): these are the figures it printed until then."


def git(*args: str) -> str:
    return subprocess.run(["git", *args], cwd=REPO, capture_output=True, text=True, check=True).stdout.strip()


def commit() -> str:
    """The commit named by the environment variable ASL_COMMIT (a copy of the tree sent to a GPU machine, whose git
    state, if any, is not that of the code it runs), else HEAD's short hash, with `+changes` when tracked files
    differ from it."""
    if "ASL_COMMIT" in os.environ:
        return os.environ["ASL_COMMIT"]
    return git("rev-parse", "--short", "HEAD") + ("+changes" if git("status", "--porcelain", "-uno") else "")


def gpu_name() -> str:
    """The GPU torch sees (when torch is already imported), else nvidia-smi's first GPU, else "none"."""
    torch = sys.modules.get("torch")
    if torch is not None and torch.cuda.is_available():
        return torch.cuda.get_device_name(0)
    if shutil.which("nvidia-smi"):
        names = subprocess.run(["nvidia-smi", "--query-gpu=name", "--format=csv,noheader"], capture_output=True,
                               text=True).stdout.split("\n")
        return names[0].strip() or "none"
    return "none"


def cpuinfo_field(name: str) -> str | None:
    """The first value of `name` in /proc/cpuinfo (Linux), else None."""
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.split(":", 1)[0].strip() == name:
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return None


def cpu_model() -> str:
    return cpuinfo_field("model name") or platform.processor() or platform.machine()


def vector_isa() -> str:
    """The widest x86 vector instruction set the CPU has (what PyTorch's CPU kernels are chosen by: the same seed
    gives other last digits on another one), else the architecture's name."""
    flags = set((cpuinfo_field("flags") or "").split())
    return next((isa for flag, isa in (("avx512f", "AVX-512"), ("avx2", "AVX2"), ("avx", "AVX")) if flag in flags),
                platform.machine())


def machine(load_at_start: float) -> dict:
    """What the figures were measured on, with the 1-minute load average (others' work on the same CPUs)."""
    import psutil

    return {"cpu": cpu_model(), "vector_isa": vector_isa(), "cores": os.cpu_count(),
            "memory_gb": round(psutil.virtual_memory().total / 1e9), "gpu": gpu_name(),
            "load_average_1min_start": round(load_at_start, 2), "load_average_1min_end": round(os.getloadavg()[0], 2),
            "python": platform.python_version()}


def command_line(argv: list[str]) -> str:
    """The command as run, without `--json PATH` (the figures do not depend on where they are written)."""
    args, skip = [], False
    for arg in argv[1:]:
        if skip or arg.startswith("--json="):
            skip = False
            continue
        if arg == "--json":
            skip = True
            continue
        args.append(arg)
    return shlex.join(["python", f"benchmarks/{Path(argv[0]).name}", *args])


class PrintedLines:
    """A stdout that passes everything on and records each complete `name: value` line in `figures`."""

    def __init__(self, stream, figures: "Figures") -> None:
        self.stream, self.figures, self.pending = stream, figures, ""

    def write(self, text: str) -> int:
        self.pending += text
        *lines, self.pending = self.pending.split("\n")
        recorded = False
        for line in lines:
            name, colon, value = line.partition(": ")
            if colon and name and " " not in name:
                self.figures.record(name, printed_value(value))
                recorded = True
        if recorded:  # kept as it goes: a run stopped midway (a time limit) still leaves what it printed
            self.figures.save(complete=False)
        return self.stream.write(text)

    def flush(self) -> None:
        self.stream.flush()


class Figures:
    """`line` prints one `name: value` line and keeps the value; `section` groups the following lines."""

    def __init__(self, json_path: Path | None, sections: str = "") -> None:
        """`sections`: what a section is (a model, an augmentation), the heading of the docs' first column."""
        self.json_path, self.sections = json_path, sections
        self.figures: dict[str, Any] = {}
        self.current = self.figures
        self.load_at_start = os.getloadavg()[0]
        self.commit = commit() if json_path is not None else None  # the code measured: as it is at the start

    def section(self, name: str) -> None:
        self.current = self.figures.setdefault(name, {})

    def line(self, name: str, value: Any, fmt: str = "", label: str | None = None) -> None:
        """Print `label: value` (label defaults to the name) formatted by `fmt`; record what was printed."""
        text = format(value, fmt)
        print(f"{label or name}: {text}")
        number = isinstance(value, numbers.Number) and not isinstance(value, bool)  # numpy's numbers too
        self.current[name] = printed_value(text) if number else value

    def record(self, name: str, value: Any) -> None:
        """Keep a figure without printing it (the benchmark prints it in its own words)."""
        self.current[name] = value

    def row(self, name: str, figures: dict[str, Any]) -> None:
        """Keep a section's figures without printing them (the benchmark prints them in its own layout)."""
        self.figures[name] = dict(figures)

    def capture(self) -> "Figures":
        """Record every `name: value` line printed from now on (for a benchmark that prints its own lines)."""
        sys.stdout = PrintedLines(sys.stdout, self)
        return self

    def write(self) -> None:
        """Write the record to the JSON path, if one was given; stop capturing."""
        if isinstance(sys.stdout, PrintedLines):
            sys.stdout = sys.stdout.stream
        if self.save(complete=True):
            print(f"figures written to {self.json_path}", file=sys.stderr)

    def save(self, complete: bool) -> bool:
        """Write the record so far to the JSON path, if one was given (`incomplete` says so until the end)."""
        if self.json_path is None:
            return False
        record = {"benchmark": Path(sys.argv[0]).stem, "command": command_line(sys.argv), "commit": self.commit,
                  "machine": machine(self.load_at_start),
                  "date": datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%d %H:%M UTC"),
                  "sections": self.sections, "figures": self.figures}
        if not complete:
            record["incomplete"] = INCOMPLETE
        write_json(record, self.json_path)
        return True
