"""The README and the docs site: figure tables rendered from recorded results, links that resolve, a strict build."""

from __future__ import annotations

import importlib.util
import json
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
SCRIPT = REPO / "scripts" / "docs_figures.py"


def run_script(script: Path, *args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, str(script), *args], capture_output=True, text=True, cwd=script.parent)


def test_every_figure_table_matches_its_recorded_result():
    result = run_script(SCRIPT, "--check")
    assert result.returncode == 0, result.stderr


def test_readme_is_short_and_its_links_resolve():
    text = (REPO / "README.md").read_text()
    assert len(text.splitlines()) <= 200
    links = re.findall(r"\]\(((?:docs/)[^)#]+)", text)
    assert links, "the README links to the docs"
    assert [link for link in links if not (REPO / link).exists()] == []


RECORD = {"benchmark": "x", "command": "python benchmarks/x.py --runs 3", "commit": "abc1234",
          "machine": {"cpu": "Some CPU", "cores": 2, "memory_gb": 8, "gpu": "none", "load_average_1min_start": 0.5,
                      "load_average_1min_end": 1.5, "python": "3.11.7"},
          "date": "2026-01-02 03:04 UTC", "sections": "model",
          "figures": {"files": 267, "TransformerPredictor": {"size_mb": 4.5, "fits": "yes"},
                      "LSTMPredictor": {"size_mb": 0.8, "fits": "yes"}}}


@pytest.mark.parametrize("vector_isa", [None, "AVX2"])  # records made before machines named it have none
def test_check_finds_a_stale_table_and_rendering_fixes_it(tmp_path, vector_isa):
    (tmp_path / "scripts").mkdir()
    script = shutil.copy(SCRIPT, tmp_path / "scripts")
    (tmp_path / "docs" / "results").mkdir(parents=True)
    record = RECORD if vector_isa is None else {**RECORD, "machine": {**RECORD["machine"], "vector_isa": vector_isa}}
    (tmp_path / "docs" / "results" / "x.json").write_text(json.dumps(record))
    (tmp_path / "README.md").write_text("intro\n<!-- figures:x -->\n| typed | by hand |\n<!-- /figures -->\nend\n")

    stale = run_script(Path(script), "--check")
    assert stale.returncode == 1
    assert "error: README.md: tables differ from docs/results" in stale.stderr
    assert run_script(Path(script)).returncode == 0
    assert run_script(Path(script), "--check").returncode == 0

    page = (tmp_path / "README.md").read_text()
    assert "typed" not in page and page.startswith("intro\n<!-- figures:x -->\n") and page.endswith("end\n")
    assert "| `files` | 267 |" in page
    assert "| model | `size_mb` | `fits` |" in page and "| `LSTMPredictor` | 0.8 | yes |" in page
    isa = "" if vector_isa is None else f"{vector_isa}, "
    assert (f"Measured by `python benchmarks/x.py --runs 3` at commit abc1234 on Some CPU ({isa}2 cores, 8 GB, no GPU; "
            "1-minute load average 0.5 at the start, 1.5 at the end), 2026-01-02 03:04 UTC.") in page


def test_a_table_without_its_record_is_an_error(tmp_path):
    (tmp_path / "scripts").mkdir()
    script = shutil.copy(SCRIPT, tmp_path / "scripts")
    (tmp_path / "README.md").write_text("<!-- figures:missing -->\n<!-- /figures -->\n")
    result = run_script(Path(script), "--check")
    assert result.returncode == 1
    assert "error: README.md: figures:missing: no docs/results/missing.json" in result.stderr


def test_a_benchmark_records_what_it_prints_with_command_commit_and_machine(tmp_path, monkeypatch, capsys):
    spec = importlib.util.spec_from_file_location("figures", REPO / "benchmarks" / "figures.py")
    figures_module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(figures_module)
    path = tmp_path / "x.json"
    monkeypatch.setattr(sys, "argv", ["benchmarks/x.py", "--runs", "3", "--json", str(path)])

    figures = figures_module.Figures(path, sections="model")
    figures.line("latency_ms", 1.23456, ".2f")
    figures.section("TransformerPredictor")
    figures.line("size_mb", 4.5049, ".1f")
    figures.capture()
    print("files: 267")
    print("a sentence: not a figure")
    figures.write()

    assert capsys.readouterr().out.splitlines()[:2] == ["latency_ms: 1.23", "size_mb: 4.5"]
    record = json.loads(path.read_text())
    assert record["command"] == "python benchmarks/x.py --runs 3"
    assert re.fullmatch(r"[0-9a-f]{7,}(\+changes)?", record["commit"])
    assert {"cpu", "vector_isa", "cores", "gpu", "load_average_1min_start",
            "load_average_1min_end"} <= set(record["machine"])
    assert record["figures"] == {"latency_ms": 1.23, "TransformerPredictor": {"size_mb": 4.5, "files": 267}}


def test_the_site_builds_strictly(tmp_path):
    if importlib.util.find_spec("mkdocs") is None:
        pytest.skip("mkdocs is not installed (pip install mkdocs==1.6.1)")
    result = subprocess.run([sys.executable, "-m", "mkdocs", "build", "--strict", "--site-dir", str(tmp_path / "site")],
                            cwd=REPO, capture_output=True, text=True)
    assert result.returncode == 0, result.stderr
    assert (tmp_path / "site" / "models.html").exists()
