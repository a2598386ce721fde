"""Render the figure tables of README.md and docs/ from the recorded results in docs/results/*.json.

A page holds a table between `<!-- figures:NAME -->` and `<!-- /figures -->`, each at the start of a line; NAME
is a file docs/results/NAME.json written by a benchmark's `--json` (benchmarks/figures.py) or, for the pipeline's
own metrics, by `--from-dvc`. `<!-- figures:NAME REGEX -->` shows only the figures whose names match REGEX, in one
row under their names.
Each table ends with a line saying which command measured it, at which commit, on which machine and when.

    python scripts/docs_figures.py              # rewrite the tables in place
    python scripts/docs_figures.py --check      # exit 1 when a page, or pipeline.json, differs from its source
    python scripts/docs_figures.py --from-dvc   # record metrics/eval.json and metrics/robustness.json first
"""

import argparse
import json
import re
import subprocess
import sys
from pathlib import Path

from asl.io import atomic_path, write_json

REPO = Path(__file__).resolve().parent.parent
RESULTS = Path("docs/results")
MARKER = re.compile(r"^(<!-- figures:(?P<name>[\w.-]+)(?: (?P<only>\S+))? -->\n)(?P<body>.*?)^(<!-- /figures -->)",
                    re.S | re.M)
DVC_METRICS = ("metrics/eval.json", "metrics/robustness.json")


def cell(value) -> str:
    if isinstance(value, bool):
        return "yes" if value else "no"
    if value is None:
        return "n/a"
    return str(value).replace("|", "\\|")


def table(header: list[str], rows: list[list]) -> list[str]:
    lines = ["| " + " | ".join(header) + " |", "|" + " --- |" * len(header)]
    return lines + ["| " + " | ".join(cell(value) for value in row) + " |" for row in rows]


def section_tables(record: dict) -> list[list[str]]:
    """Scalar figures as one figure/value table; sections (models, videos...) as rows, one table per set of
    columns."""
    figures = record["figures"]
    scalars = [[f"`{name}`", value] for name, value in figures.items() if not isinstance(value, dict)]
    tables = [table(["figure", "value"], scalars)] if scalars else []
    groups: list[tuple[list[str], list[list]]] = []
    for name, values in figures.items():
        if isinstance(values, dict):
            columns = list(values)
            if not groups or groups[-1][0] != columns:
                groups.append((columns, []))
            groups[-1][1].append([f"`{name}`", *values.values()])
    label = record.get("sections", "")
    return tables + [table([label, *(f"`{column}`" for column in columns)], rows) for columns, rows in groups]


def machine_text(machine: dict) -> str:
    if "note" in machine:
        return machine["note"]
    gpu = "no GPU" if machine["gpu"] == "none" else machine["gpu"]
    isa = f"{machine['vector_isa']}, " if "vector_isa" in machine else ""  # older records lack it
    load = f"{machine['load_average_1min_start']} at the start, {machine['load_average_1min_end']} at the end"
    return (f"{machine['cpu']} ({isa}{machine['cores']} cores, {machine['memory_gb']} GB, {gpu}; "
            f"1-minute load average {load})")


def stamp(record: dict) -> str:
    verb = "Recorded" if record.get("recorded") else "Measured"
    text = (f"{verb} by `{record['command']}` at commit {record['commit']} on {machine_text(record['machine'])}, "
            f"{record['date']}.")
    return text + "".join(f" {record[note]}" for note in ("recorded", "incomplete") if record.get(note))


def selected_table(record: dict, only: str) -> list[str]:
    """The scalar figures whose names match `only`, as one row under their names (a compact table)."""
    figures = {name: value for name, value in record["figures"].items()
               if re.search(only, name) and not isinstance(value, dict)}
    return table([f"`{name}`" for name in figures], [list(figures.values())])


def render(record: dict, only: str | None = None) -> str:
    tables = [selected_table(record, only)] if only else section_tables(record)
    blocks = ["\n".join(lines) for lines in tables]
    return "\n\n".join(blocks) + "\n\n" + stamp(record) + "\n"


def pages() -> list[Path]:
    return [REPO / "README.md", *sorted((REPO / "docs").rglob("*.md"))]


def rendered_page(text: str, page: Path, problems: list) -> str:
    """`text` with every table rendered from its record; a marker without a record is left as it is, in
    `problems`."""
    def replace(found: re.Match) -> str:
        path = REPO / RESULTS / f"{found['name']}.json"
        if not path.exists():
            problems.append((page.relative_to(REPO), f"figures:{found['name']}: no {RESULTS}/{found['name']}.json "
                             f"(run the benchmark with --json {RESULTS}/{found['name']}.json)"))
            return found[0]
        return found[1] + render(json.loads(path.read_text()), found["only"]) + found[5]

    return MARKER.sub(replace, text)


def git(*args: str) -> str:
    return subprocess.run(["git", *args], cwd=REPO, capture_output=True, text=True, check=True).stdout.strip()


def dvc_record() -> dict:
    """The pipeline's headline metrics as committed with dvc.lock (the commit that last changed it)."""
    eval_metrics, robustness = (json.loads((REPO / path).read_text()) for path in DVC_METRICS)
    interval = eval_metrics["accuracy_ci95"]
    headline = {"accuracy": round(eval_metrics["accuracy"], 3),
                "accuracy_ci95": interval and f"[{interval[0]:.3f}, {interval[1]:.3f}]",
                **{name: round(eval_metrics[name], 3) for name in ("top5_accuracy", "f1_macro", "loss")},
                "n_test": eval_metrics["n_test"], "split_strategy": eval_metrics["split_strategy"]}
    lock_commit = git("log", "-1", "--format=%h", "--", "dvc.lock", *DVC_METRICS)
    return {"benchmark": "dvc repro", "command": "dvc repro", "commit": lock_commit,
            "machine": {"note": "a machine DVC does not record"},
            "date": git("log", "-1", "--format=%cd", "--date=format:%Y-%m-%d", lock_commit), "sections": "file",
            "figures": {"metrics/eval.json": headline,
                        "metrics/robustness.json": {name: round(value, 3) for name, value in robustness.items()}}}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--check", action="store_true", help="change nothing; exit 1 if anything is out of date")
    parser.add_argument("--from-dvc", action="store_true", help="record the pipeline's metrics in "
                                                                 f"{RESULTS}/pipeline.json first")
    options = parser.parse_args()
    problems = []
    pipeline = REPO / RESULTS / "pipeline.json"
    if options.from_dvc and not options.check:
        write_json(dvc_record(), pipeline)
    elif pipeline.exists() and json.loads(pipeline.read_text())["figures"] != dvc_record()["figures"]:
        problems.append((f"{RESULTS}/pipeline.json", "differs from metrics/: run scripts/docs_figures.py --from-dvc"))
    for page in pages():
        text = page.read_text()
        new = rendered_page(text, page, problems)
        if new != text:
            if options.check:
                problems.append((page.relative_to(REPO),
                                 "tables differ from docs/results: run scripts/docs_figures.py"))
            else:
                with atomic_path(page) as temporary:
                    temporary.write_text(new)
                print(f"updated {page.relative_to(REPO)}")
    for path, problem in problems:
        print(f"error: {path}: {problem}", file=sys.stderr)
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
