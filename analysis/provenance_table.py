"""REPORT.md's last section: where each result it read came from, and which results to distrust.

One row per result file analysis.figures read, from the record runstore.provenance saved in it: the workflow
rule that made it, its command, the commit of the code, when it finished and its wall time. A row is flagged
when the result cannot be traced to the current code through the workflow:

* **older code, no record**: the file has no provenance (made before results recorded it);
* **not from the workflow**: a command typed by hand (no rule recorded), so its inputs are whatever runs
  were on that machine, not necessarily the ones workflow/config names;
* **uncommitted code**: the code differed from its commit when it ran;
* **code changed since**: the command's own module (e.g. analysis/compare.py) has commits after the result's
  commit; changes to the shared code below it are not traced (keep it simple: the rule's CLI alone);
* a sweep whose cached points (each with its own record) have none.

Reads JSON only, as the other figure and report modules (tests/test_layout.py), and the full study's
workflow/config/full.yaml, whose sections name the rule that re-derives a result with no record of its own
(without PyYAML, the pipeline extra, that column stays "-"); git is asked through runstore.provenance, and
without git the code-changed check is left out.
"""
from __future__ import annotations

import datetime
import functools
import shlex
from pathlib import Path

from runstore.files import load_json, relative_path
from runstore.provenance import ROOT, git, git_state

WORKFLOW_CMD = "python -m workflow"
WORKFLOW_CONFIG = ROOT / "workflow" / "config" / "full.yaml"
# The sections of workflow/config/full.yaml whose keys are result folders (or, for the sweeps, files under
# results/sweeps), and the rule of workflow/rules/*.smk each one feeds.
SECTION_RULE = {"damping": "damping", "compare": "compare", "attack": "attack", "twin_agreement": "twin_agreement",
                "transfer_matrix": "transfer_matrix", "seed000_protocol": "seed000_protocol",
                "weight_sparsity": "weight_sparsity", "accuracy_table": "accuracy_table", "sweeps": "sweep"}
# The file each folder rule writes (workflow/rules/measure.smk outputs): another file in its folder, such as
# damping/converged.json (analysis.damping --from-sweep), is not that rule's to re-derive.
RULE_FILE = {"compare": "compare.json", "damping": "damping.json", "attack": "attack.json",
             "twin_agreement": "agreement.json", "transfer_matrix": "transfer_matrix.json",
             "seed000_protocol": "cifar10.json", "weight_sparsity": "sparsity.json"}


@functools.cache
def planned_rules() -> dict[Path, str]:
    """{a result path under results, without its suffix or as its folder: the rule of the full study that
    makes it}; empty without PyYAML or the config."""
    try:
        import yaml
        config = yaml.safe_load(WORKFLOW_CONFIG.read_text())
    except (ImportError, OSError):
        return {}
    return {(Path("sweeps") / key if section == "sweeps" else Path(key)): rule
            for section, rule in SECTION_RULE.items() for key in (config.get(section) or {})}


def planned_rule(shown: str) -> str | None:
    """The rule of the full study that re-derives the result shown as ``shown`` (relative to results)."""
    p = Path(shown)
    rules = planned_rules()
    folder = rules.get(p.parent)
    return rules.get(p.with_suffix("")) or (folder if RULE_FILE.get(folder) == p.name else None)


def shown_path(path: Path, res_dir: Path) -> str:
    """A result's path as the report names it: below the results folder, else from the project root."""
    try:
        return str(path.relative_to(res_dir))
    except ValueError:
        return relative_path(path)


def when(stamp: str | None) -> str:
    if not stamp:
        return "-"
    return datetime.datetime.fromisoformat(stamp).strftime("%Y-%m-%d %H:%M")


def duration(seconds) -> str:
    if seconds is None:
        return "-"
    if seconds < 120:
        return f"{seconds:.0f} s"
    return f"{seconds / 60:.1f} min" if seconds < 7200 else f"{seconds / 3600:.1f} h"


def command_text(command: list[str] | None) -> str:
    """The command as one could type it again; ``|`` escaped for the markdown table."""
    if not command:
        return "-"
    return "`" + " ".join(map(shlex.quote, command)).replace("|", "\\|") + "`"


def module_file(command: list[str] | None) -> str | None:
    """The source file of ``python -m MODULE ...``, relative to the project root."""
    if not command or len(command) < 3 or command[1] != "-m":
        return None
    return command[2].replace(".", "/") + ".py"


def code_changed(record: dict) -> str | None:
    """Why the result's code is out of date, if its module has commits after the result's commit; None when
    it is not, or when there is no git to ask."""
    path, commit = module_file(record.get("command")), record.get("commit")
    if not path or not commit or git_state()["commit"] is None:
        return None
    later = git("log", "-1", "--format=%h", f"{commit}..HEAD", "--", path)
    if later is None:
        return f"commit {commit[:9]} is not in this checkout's history"
    return f"code changed since ({path}, {later})" if later else None


def flags(record: dict | None, data: dict) -> list[str]:
    if record is None:
        return ["older code, no record"]
    out = [] if record.get("workflow") else ["not from the workflow"]
    if record.get("dirty"):
        out.append("uncommitted code")
    changed = code_changed(record)
    if changed:
        out.append(changed)
    points = data.get("points") if isinstance(data.get("points"), list) else []
    bare = sum("provenance" not in p for p in points)
    if bare:
        out.append(f"{bare} of {len(points)} points older code, no record")
    return out


def row(path: Path, res_dir: Path) -> tuple[list[str], bool]:
    """(the table row of one result file, whether it is flagged)."""
    data = load_json(path)
    record = data.get("provenance") if isinstance(data, dict) else None
    found = flags(record, data if isinstance(data, dict) else {})
    rec = record or {}
    wf = rec.get("workflow") or {}
    commit = (rec.get("commit") or "-")[:9] + (" (dirty)" if rec.get("dirty") else "")
    shown = shown_path(path, res_dir)
    planned = planned_rule(shown)
    rule = (wf["rule"] + (f" ({wf['study']})" if wf.get("study") else "") if wf.get("rule")
            else f"{planned} (re-derives it)" if planned else "-")
    return [shown, rule, command_text(rec.get("command")), commit, when(rec.get("finished")),
            duration(rec.get("wall_seconds")), "; ".join(f"**{f}**" for f in found) or "-"], bool(found)


def provenance_section(res_dir: Path, read: list[Path]) -> list[str]:
    """The lines of REPORT.md's provenance section for the result files ``read`` (each once)."""
    files = list(dict.fromkeys(Path(p) for p in read))
    rows, flagged = [], 0
    for path in files:
        cells, bad = row(path, Path(res_dir))
        rows.append("| " + " | ".join(cells) + " |")
        flagged += bad
    head = ["", "## Provenance", "",
            f"Where each result file read above came from (runstore.provenance): the rule of the workflow that made "
            f"it (`{WORKFLOW_CMD}`, docs/pipeline.md), its command, the commit of the code, when it finished and its "
            f"wall time. {flagged} of {len(files)} are flagged: made by older code that kept no record, by a command "
            f"typed by hand, from uncommitted code, or by code that has changed since; `{WORKFLOW_CMD}` re-derives "
            "them.", ""]
    if not files:
        return head[:3] + ["No result files were read."]
    return head + ["| result | rule | command | commit | finished | wall | flag |", "|---|---|---|---|---|---|---|"] \
        + rows

