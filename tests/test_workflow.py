"""The study as one DAG (workflow/Snakefile, python -m workflow): every result REPORT.md reads is a target of
the full study, a dry run prices each job, and the tiny study runs the whole DAG end to end, REPORT.md included,
into its own root without touching results/."""
import importlib.util
import json
import re
import subprocess
import sys
from pathlib import Path

import pytest

from imagesets.datadir import resolve_data_dir

ROOT = Path(__file__).resolve().parents[1]
HAS_SNAKEMAKE = importlib.util.find_spec("snakemake") is not None
needs_snakemake = pytest.mark.skipif(not HAS_SNAKEMAKE, reason="snakemake not installed (pip install -e '.[pipeline]')")
DATA = resolve_data_dir()
HAS_DATA = (DATA / "mnist" / "train-images-idx3-ubyte.gz").is_file() and (DATA / "cifar10" / "cifar-10-batches-py").is_dir()
# What analysis.figures reads into REPORT.md (its globs), among the committed results
REPORT_GLOBS = ("damping/damping.json", "sweeps/*_sweep.json", "compare/*/compare.json", "attack/**/attack.json",
                "transfer_matrix/*/transfer_matrix.json", "accuracy/*.json", "weights/**/sparsity.json")


def workflow(*args, timeout=600):
    return subprocess.run([sys.executable, "-m", "workflow", *args], cwd=ROOT, capture_output=True, text=True,
                          timeout=timeout)


def snakemake_dry_run(config: str, *more) -> str:
    out = subprocess.run([sys.executable, "-m", "snakemake", "-s", "workflow/Snakefile", "--configfile",
                          f"workflow/config/{config}.yaml", "-n", "--cores", "2", *more], cwd=ROOT,
                         capture_output=True, text=True, timeout=300)
    assert out.returncode == 0, out.stdout + out.stderr
    return out.stdout + out.stderr


def test_without_snakemake_the_wrapper_says_how_to_install(monkeypatch, capsys):
    import workflow.__main__ as wrapper
    monkeypatch.setattr(importlib.util, "find_spec", lambda name: None)
    assert wrapper.main(["-n"]) == 2
    assert "pip install -e '.[pipeline]'" in capsys.readouterr().err


@needs_snakemake
@pytest.mark.parametrize("options", [[], ["--root", "build/x"], ["-n"], ["--profile", "p"]])
def test_targets_after_the_double_dash_reach_snakemake_as_targets(options):
    """`python -m workflow -- TARGET` once handed TARGET to --rerun-triggers as one more value (exit 2)."""
    from snakemake.cli import get_argument_parser
    from workflow.__main__ import parse_args, snakemake_command
    cmd = snakemake_command(parse_args([*options, "--", "results/attack/size-n100/attack.json", "--keep-going"]))
    parsed = get_argument_parser().parse_args(cmd[3:])
    assert parsed.targets == ["results/attack/size-n100/attack.json"] and parsed.keep_going
    assert {str(getattr(t, "name", t)).lower() for t in parsed.rerun_triggers} == {"mtime", "params", "input"}


@needs_snakemake
def test_every_result_the_report_reads_is_a_target_of_the_full_study():
    text = snakemake_dry_run("full")
    outputs = {o.strip() for line in re.findall(r"^\s+output: (.*)$", text, re.M) for o in line.split(",")}
    read = {str(p.relative_to(ROOT)) for g in REPORT_GLOBS for p in (ROOT / "results").glob(g)}
    assert read and not read - outputs, f"not made by the workflow: {sorted(read - outputs)}"
    assert "results/REPORT.md" in outputs
    # every job states its expected minutes (the study config's cost table)
    resources = re.findall(r"^\s+resources: (.*)$", text, re.M)
    assert resources and all("expected_min=" in r for r in resources if "runtime=" in r)


@needs_snakemake
@pytest.mark.skipif(not HAS_DATA, reason=f"no MNIST and CIFAR-10 under {DATA} (SNN_DATA_DIR)")
@pytest.mark.slow
def test_the_tiny_study_runs_the_whole_dag_and_resumes(tmp_path):
    committed = {p: p.stat().st_mtime_ns for p in (ROOT / "results").rglob("*") if p.is_file()}
    dry = workflow("--study", "tiny", "--root", str(tmp_path), "-n")
    assert dry.returncode == 0, dry.stdout + dry.stderr
    assert re.search(r"Expected time of the \d+ jobs", dry.stdout) and "leak_sweep (" in dry.stdout

    run = workflow("--study", "tiny", "--root", str(tmp_path), "--cores", "2", timeout=2400)
    logs = "\n".join(f"--- {p}\n{p.read_text()[-2000:]}" for p in (tmp_path / "results" / "logs").rglob("*.log"))
    assert run.returncode == 0, run.stdout[-3000:] + run.stderr[-5000:] + logs

    report = (tmp_path / "results" / "REPORT.md").read_text()
    table = report[report.index("## Provenance"):]
    rows = [r for r in table.splitlines() if r.startswith("| ") and not r.startswith("| result")]
    assert len(rows) >= 10 and all("(tiny) |" in r for r in rows)
    assert not [r for r in rows if "older code" in r or "not from the workflow" in r]
    for section in ("## 1.", "## 2.", "## 3.", "## 4.", "## 5.", "## 6."):
        assert section in report
    for name in ("compare.json", "damping.json", "attack.json", "agreement.json", "transfer_matrix.json",
                 "sparsity.json", "leak_sweep.json", "timestep_sweep.json"):
        found = list((tmp_path / "results").rglob(name))
        assert found, name
        for path in found:
            rec = json.loads(path.read_text())["provenance"]
            assert rec["workflow"]["study"] == "tiny" and rec["command"][:2] == ["python", "-m"], path
    # never into the committed results/
    assert {p: p.stat().st_mtime_ns for p in committed} == committed

    again = workflow("--study", "tiny", "--root", str(tmp_path), "-n")
    assert again.returncode == 0 and "Nothing to be done" in again.stdout + again.stderr
