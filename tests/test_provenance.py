"""runstore.provenance's record and REPORT.md's provenance table (analysis.provenance_table): what a result
says of its making, and which results the report flags."""
import json
import os
import subprocess
import sys
import time
from pathlib import Path

import pytest

from analysis.provenance_table import provenance_section
from runstore import provenance
from runstore.cli import run_main
from runstore.files import save_json

ROOT = Path(__file__).resolve().parents[1]


def test_a_record_names_commit_command_config_inputs_and_rule(monkeypatch):
    monkeypatch.setenv(provenance.RULE_ENV, "compare")
    monkeypatch.setenv(provenance.STUDY_ENV, "tiny")
    seen = {}

    def main(argv):   # a CLI whose writer records its provenance
        seen["record"] = provenance.provenance({"eps": [0.1], "out": Path("x")}, [ROOT / "runs" / "a", None, "runs/a"])
    assert run_main(main, ["--eps", "0.1"]) == 0
    rec = seen["record"]
    assert rec["command"][:2] == ["python", "-m"] and rec["command"][-2:] == ["--eps", "0.1"]
    assert rec["config"] == {"eps": [0.1], "out": "x"}
    assert rec["inputs"] == ["runs/a"]   # relative to the project root, once, no None
    assert rec["workflow"] == {"rule": "compare", "study": "tiny"}
    assert rec["wall_seconds"] >= 0 and rec["started"] <= rec["finished"]
    head = subprocess.run(["git", "-C", str(ROOT), "rev-parse", "HEAD"], capture_output=True, text=True).stdout.strip()
    assert rec["commit"] == (head or None) and isinstance(rec["dirty"], (bool, type(None)))
    json.dumps(rec)   # plain JSON


def test_a_library_call_has_no_command_and_no_wall_time_of_its_own(monkeypatch):
    monkeypatch.delenv(provenance.RULE_ENV, raising=False)
    monkeypatch.setattr(provenance, "_clock", {"started": None, "command": None})
    rec = provenance.provenance()
    assert rec["command"] is None and rec["wall_seconds"] is None and rec["workflow"] is None
    assert provenance.provenance(started=time.time() - 5)["wall_seconds"] >= 5   # the work it timed itself


def test_a_python_dash_m_command_records_itself(tmp_path):
    """Run as ``python -m MODULE``, a CLI's results name MODULE (not __main__) and its arguments, and the wall
    time from its process's start."""
    (tmp_path / "toycli.py").write_text(
        "import json\nfrom runstore.cli import exit_with\nfrom runstore.provenance import provenance\n"
        "def main(argv=None):\n    print(json.dumps(provenance()))\n"
        "if __name__ == '__main__':\n    exit_with(main)\n")
    env = {**os.environ, "PYTHONPATH": f"{tmp_path}{os.pathsep}{ROOT}"}
    out = subprocess.run([sys.executable, "-m", "toycli", "--n", "3"], cwd=ROOT, env=env, capture_output=True,
                         text=True)
    assert out.returncode == 0, out.stderr
    rec = json.loads(out.stdout)
    assert rec["command"] == ["python", "-m", "toycli", "--n", "3"] and rec["wall_seconds"] > 0


def result(path: Path, **record):
    save_json(path, {"value": 1, **({"provenance": record} if record else {})})
    return path


def test_the_table_flags_older_code_hand_typed_and_uncommitted_results(tmp_path):
    commit = provenance.git_state()["commit"]
    ok = dict(commit=commit, dirty=False, command=["python", "-m", "analysis.compare", "--dset", "mnist"],
              finished="2026-12-07T10:00:00+00:00", wall_seconds=3000.0, workflow={"rule": "compare", "study": "full"})
    files = [result(tmp_path / "compare" / "mnist" / "compare.json", **ok),
             result(tmp_path / "damping" / "damping.json"),
             result(tmp_path / "accuracy" / "cifar10.json", **{**ok, "workflow": None}),
             result(tmp_path / "weights" / "sparsity.json", **{**ok, "dirty": True})]
    lines = provenance_section(tmp_path, files + files[:1])   # a file read twice is one row
    text = "\n".join(lines)
    rows = [line for line in lines if line.startswith("| ") and not line.startswith("| result")]
    assert lines[1] == "## Provenance" and len(rows) == 4
    assert "3 of 4 are flagged" in text
    good = next(r for r in rows if r.startswith("| compare/mnist/compare.json"))
    assert "| compare (full) |" in good and "`python -m analysis.compare --dset mnist`" in good
    assert "2026-12-07 10:00" in good and "50.0 min" in good
    if commit:   # in a git checkout: the module has no commit after HEAD
        assert good.endswith("| - |")
    assert "**older code, no record**" in next(r for r in rows if r.startswith("| damping/damping.json"))
    assert "**not from the workflow**" in next(r for r in rows if r.startswith("| accuracy/cifar10.json"))
    assert "**uncommitted code**" in next(r for r in rows if r.startswith("| weights/sparsity.json"))


def test_a_sweep_whose_points_have_no_record_is_flagged(tmp_path):
    path = tmp_path / "sweeps" / "leak_sweep.json"
    save_json(path, {"points": [{"provenance": {}}, {}, {}],
                     "provenance": {"commit": None, "workflow": {"rule": "sweep", "study": "full"}}})
    assert "2 of 3 points older code, no record" in "\n".join(provenance_section(tmp_path, [path]))


def test_every_result_report_reads_names_the_rule_that_re_derives_it():
    pytest.importorskip("yaml", reason="the pipeline extra (PyYAML, with Snakemake) reads the workflow config")
    from analysis.provenance_table import planned_rule
    assert planned_rule("sweeps/leak_sweep.json") == "sweep" and planned_rule("damping/damping.json") == "damping"
    assert planned_rule("compare/mnist/compare.json") == "compare" and planned_rule("accuracy/cifar10.json") == "accuracy_table"
    assert planned_rule("weights/sparsity.json") == "weight_sparsity" and planned_rule("nowhere/x.json") is None
    assert planned_rule("damping/converged.json") is None   # made by analysis.damping --from-sweep, no rule yet
