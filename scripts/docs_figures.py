"""Render the figure tables of README.md and docs/ from the recorded results in docs/results/*.json.

A page holds a table between `<!-- figures:NAME -->` and `<!-- /figures -->` (each at the start of a line); NAME is a file docs/results/NAME.json
written by a benchmark's `--json` (benchmarks/figures.py) or, for the pipeline's own metrics, by `--from-dvc`.
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

REPO = Path(__file__).resolve().parent.parent
RESULTS = Path("docs/results")
MARKER = re.compile(r"^(<!-- figures:(?P<name>[\w.-]+) -->\n)(?P<body>.*?)^(<!-- /figures -->)", re.S | re.M)
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
    return (f"{machine['cpu']} ({machine['cores']} cores, {machine['memory_gb']} GB, {gpu}; 1-minute load average "
            f"{machine['load_average_1min_start']} at the start, {machine['load_average_1min_end']} at the end)")


def stamp(record: dict) -> str:
    verb = "Recorded" if record.get("recorded") else "Measured"
    text = (f"{verb} by `{record['command']}` at commit {record['commit']} on {machine_text(record['machine'])}, "
            f"{record['date']}.")
    return text + (f" {record['recorded']}" if record.get("recorded") else "")


def render(record: dict) -> str:
    blocks = ["\n".join(lines) for lines in section_tables(record)]
    return "\n\n".join(blocks) + "\n\n" + stamp(record) + "\n"


def pages() -> list[Path]:
    return [REPO / "README.md", *sorted((REPO / "docs").rglob("*.md"))]


def rendered_page(text: str, page: Path) -> str:
    def replace(found: re.Match) -> str:
        path = REPO / RESULTS / f"{found['name']}.json"
        if not path.exists():
            raise SystemExit(f"error: {page.relative_to(REPO)}: figures:{found['name']}: no {RESULTS}/"
                             f"{found['name']}.json (run the benchmark with --json {RESULTS}/{found['name']}.json)")
        return found[1] + render(json.loads(path.read_text())) + found[4]

    return MARKER.sub(replace, text)


def git(*args: str) -> str:
    return subprocess.run(["git", *args], cwd=REPO, capture_output=True, text=True, check=True).stdout.strip()


def dvc_record() -> dict:
    """The pipeline's metrics as committed with dvc.lock (the commit that last changed it)."""
    eval_metrics, robustness = (json.loads((REPO / path).read_text()) for path in DVC_METRICS)
    headline = {name: value for name, value in eval_metrics.items()
                if not isinstance(value, (dict, list)) and name != "split_strategy"}
    headline["accuracy_ci95"] = eval_metrics["accuracy_ci95"] and "[{}, {}]".format(*eval_metrics["accuracy_ci95"])
    lock_commit = git("log", "-1", "--format=%h", "--", "dvc.lock", *DVC_METRICS)
    return {"benchmark": "dvc repro", "command": "dvc repro", "commit": lock_commit,
            "machine": {"note": "the machine that ran it (DVC does not record it)"},
            "date": git("log", "-1", "--format=%cd", "--date=format:%Y-%m-%d", lock_commit),
            "sections": "metrics", "figures": {"metrics/eval.json": headline, "metrics/robustness.json": robustness}}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--check", action="store_true", help="change nothing; exit 1 if anything is out of date")
    parser.add_argument("--from-dvc", action="store_true", help="record the pipeline's metrics in "
                                                                 f"{RESULTS}/pipeline.json first")
    options = parser.parse_args()
    stale = []
    pipeline = REPO / RESULTS / "pipeline.json"
    if options.from_dvc and not options.check:
        pipeline.write_text(json.dumps(dvc_record(), indent=1) + "\n")
    elif pipeline.exists() and json.loads(pipeline.read_text())["figures"] != dvc_record()["figures"]:
        stale.append((f"{RESULTS}/pipeline.json", "differs from metrics/: run scripts/docs_figures.py --from-dvc"))
    for page in pages():
        text = page.read_text()
        new = rendered_page(text, page)
        if new != text:
            if options.check:
                stale.append((page.relative_to(REPO), "tables differ from docs/results: run scripts/docs_figures.py"))
            else:
                page.write_text(new)
                print(f"updated {page.relative_to(REPO)}")
    for path, problem in stale:
        print(f"error: {path}: {problem}", file=sys.stderr)
    return 1 if stale else 0


if __name__ == "__main__":
    sys.exit(main())
