"""Issue 27's size series: the Brian2 STDP network's accuracy against its size, clean and under attack.

workflow/config/full.yaml attacks the networks of 100, 400, 1,600 and 6,400 excitatory neurons with one protocol
(analysis.attack on the first 1,000 test images): per size one folder ``attack/size-nNNN`` with FGSM and PGD-10 at
eps 0.1 and one ``attack/size-nNNN-fgsm`` with FGSM at eps 0.05, 0.2 and 0.3. :func:`size_series` pairs the two
folders of each size and gives, per size, the clean accuracy on the attacked images and each attack's accuracy and
attack success rate, every one with its 95 % Wilson interval on its images (analysis.effects.wilson_interval);
the sizes or folders not computed yet, with the workflow targets that make them; and the trend, the largest size
measured minus the smallest at eps 0.1, as effects with their 95 % intervals (two standard errors of two
proportions, analysis.effects.proportion_interval). analysis.figures saves it as attack/accuracy_vs_size.json
beside its figure (analysis.attack_figures.size_figure); analysis.report writes its table with the text of
:func:`trend_text` and :func:`pgd_gain_text` under it. Saved JSON only.
"""
from __future__ import annotations

import math
import re
from pathlib import Path

from analysis.effects import Effect, interval_text, proportion_interval, scaled, sign_of, wilson_interval

SIZES = (100, 400, 1600, 6400)   # excitatory neurons of the series (full.yaml's attack/size-n* entries)
MAIN_EPS = 0.1                   # FGSM and PGD-10 in size-nNNN; the trend is taken here
FGSM_EPS = (0.05, 0.2, 0.3)      # FGSM alone in size-nNNN-fgsm
FOLDER = re.compile(r"^size-n(\d+)(-fgsm)?$")
RUN_SIZE = re.compile(r"-n(\d+)(?:-|$)")   # runs/stdp-mnist-n400-s0
READOUT = "assignment"
WORKFLOW = "python -m workflow --"
TREND_HOW = "two standard errors of two proportions"
INTERVAL = "95 % Wilson interval on the test images (binomial)"


def folders_of(n_exc: int) -> tuple[str, str]:
    """The two folders of a size: FGSM and PGD at eps 0.1, and FGSM at the other eps."""
    return f"size-n{n_exc}", f"size-n{n_exc}-fgsm"


def target(folder: str) -> str:
    """The workflow target (full study) that makes a folder's attack.json."""
    return f"results/attack/{folder}/attack.json"


def command(folders) -> str:
    return " ".join([WORKFLOW, *(target(f) for f in folders)])


ALL_CMD = command(f for n in SIZES for f in folders_of(n))   # every folder of the series


def is_size_folder(path) -> bool:
    """Whether an attack.json's folder (or the folder itself) belongs to the size series."""
    path = Path(path)
    return bool(FOLDER.match(path.parent.name if path.name == "attack.json" else path.name))


def network_size(summary: dict, folder: str) -> int | None:
    """The excitatory neurons of the network a summary attacked: its "network" (analysis.attack records the
    run's config there), else the folder's name (size-nNNN), else the run's (stdp-mnist-nNNN-s0)."""
    n = (summary.get("network") or {}).get("n_exc")
    if n is not None:
        return int(n)
    m = FOLDER.match(folder)
    if m:
        return int(m.group(1))
    m = RUN_SIZE.search(Path(str(summary.get("settings", {}).get("run", ""))).name)
    return int(m.group(1)) if m else None


def proportion(p: float, n: int) -> dict:
    """A proportion on n images with its 95 % interval."""
    return {"value": p, "n": n, "ci95": list(wilson_interval(p, n))}


def row_of(r: dict, folder: str, readout: str) -> dict:
    b = r["brian2"][readout]
    n = int(r["n"])
    correct = round(b["clean_accuracy"] * n)   # the ASR's denominator: clean-correct images of this row
    return {"attack": r["attack"], "eps": float(r["eps"]), "folder": folder, "n": n,
            "adv_accuracy": proportion(b["adv_accuracy"], n), "clean_accuracy": b["clean_accuracy"],
            "drop": b["clean_accuracy"] - b["adv_accuracy"],
            "attack_success_rate": proportion(b["attack_success_rate"], correct)}


def size_series(summaries: dict, readout: str = READOUT) -> dict:
    """The series from analysis.attack's summaries ({folder name or attack.json path: summary}); folders outside
    the series are left out. Per size: the folders read, the run, n and clean accuracy (of the main folder when it
    is there, else of the FGSM one; both attack the same first images), the twin-crafted attacks' rows (FGSM, PGD;
    the query attacks are not part of the protocol) sorted by attack and eps, and PGD's steps. "missing": what is not
    computed yet of the four sizes, with the command that makes it; "trend": :func:`trend`."""
    by_size: dict[int, dict[str, tuple[str, dict]]] = {}
    for key, summary in summaries.items():
        path = Path(key)
        folder = path.parent.name if path.name == "attack.json" else path.name
        if not FOLDER.match(folder):
            continue
        n_exc = network_size(summary, folder)
        kind = "fgsm" if folder.endswith("-fgsm") else "main"
        by_size.setdefault(n_exc, {})[kind] = (folder, summary)
    sizes = []
    for n_exc in sorted(by_size):
        got = by_size[n_exc]
        _, first = got.get("main") or got["fgsm"]
        rows, seen = [], set()
        for kind in ("main", "fgsm"):
            if kind not in got:
                continue
            folder, summary = got[kind]
            for r in summary["results"]:
                key = (r["attack"], float(r["eps"]))
                if r["attack"] in ("fgsm", "pgd") and key not in seen and readout in r["brian2"]:
                    seen.add(key)
                    rows.append(row_of(r, folder, readout))
        pgd = [got[k][1]["settings"].get("steps") for k in got if "pgd" in got[k][1]["settings"].get("attack", [])]
        sizes.append({"n_exc": n_exc, "folders": [got[k][0] for k in ("main", "fgsm") if k in got],
                      "run": first["settings"].get("run"), "epoch": first.get("epoch"), "n": first["n_test"],
                      "clean": proportion(first["clean"]["brian2"][readout], first["n_test"]),
                      "pgd_steps": pgd[0] if pgd else None,
                      "rows": sorted(rows, key=lambda r: (r["attack"] != "fgsm", r["attack"], r["eps"]))})
    series = {"readout": readout, "interval": INTERVAL, "sizes": sizes, "missing": missing(by_size)}
    series["trend"] = [e._asdict() for e in trend(series)]
    return series


def eps_text(eps) -> str:
    eps = [f"{e:g}" for e in eps]
    return ", ".join(eps[:-1]) + (" and " if len(eps) > 1 else "") + eps[-1]


def missing(by_size: dict) -> list[dict]:
    """What of the four sizes is not computed yet: a whole size, or one of its two folders."""
    out = []
    for n_exc in SIZES:
        main, fgsm = folders_of(n_exc)
        got = by_size.get(n_exc, {})
        if not got:
            what, need = f"{n_exc:,} excitatory neurons (no results)", [main, fgsm]
        elif "main" not in got:
            what, need = f"FGSM and PGD-10 at eps {MAIN_EPS:g}, {n_exc:,} excitatory neurons", [main]
        elif "fgsm" not in got:
            what, need = f"FGSM at eps {eps_text(FGSM_EPS)}, {n_exc:,} excitatory neurons", [fgsm]
        else:
            continue
        out.append({"n_exc": n_exc, "what": what, "command": command(need)})
    return out


def row(size: dict, attack: str, eps: float) -> dict | None:
    return next((r for r in size["rows"] if r["attack"] == attack and math.isclose(r["eps"], eps)), None)


def attack_label(attack: str, size_or_steps) -> str:
    """"FGSM" or "PGD-10" (its steps, from the size's settings)."""
    if attack != "pgd":
        return attack.upper()
    steps = size_or_steps.get("pgd_steps") if isinstance(size_or_steps, dict) else size_or_steps
    return f"PGD-{steps}" if steps else "PGD"


def trend(series: dict, eps: float = MAIN_EPS) -> list[Effect]:
    """The largest size measured minus the smallest, in points with their 95 % intervals: clean accuracy, and
    for FGSM and PGD at ``eps`` where both sizes have them the accuracy and the attack success rate. None with
    fewer than two sizes."""
    sizes = series["sizes"]
    if len(sizes) < 2:
        return []
    small, large = sizes[0], sizes[-1]
    span = f"{large['n_exc']:,} - {small['n_exc']:,} exc"
    out = [Effect(f"clean: {span}", *scaled(proportion_interval(
        large["clean"]["value"], small["clean"]["value"], large["clean"]["n"], small["clean"]["n"]), 100),
        "accuracy points", how=TREND_HOW)]
    for attack in ("fgsm", "pgd"):
        a, b = row(large, attack, eps), row(small, attack, eps)
        if a and b:
            label = f"{attack_label(attack, large)} eps {eps:g}"
            out.append(Effect(f"{label}: {span}", *scaled(proportion_interval(
                a["adv_accuracy"]["value"], b["adv_accuracy"]["value"], a["n"], b["n"]), 100), "accuracy points",
                how=TREND_HOW))
            # clean accuracy grows with size too: the ASR (on each size's clean-correct images) is robustness alone
            ra, rb = a["attack_success_rate"], b["attack_success_rate"]
            out.append(Effect(f"{label} ASR: {span}", *scaled(proportion_interval(
                ra["value"], rb["value"], ra["n"], rb["n"]), 100), "ASR points", how=TREND_HOW))
    return out


def direction(effect: dict) -> str:
    """Whether the quantity (accuracy or attack success rate) grows with size, shrinks, or neither beyond the
    interval."""
    return {1: "grows", -1: "shrinks", 0: "no change beyond noise"}[sign_of(Effect(**effect))]


def trend_text(series: dict) -> str:
    """The measured trend: the largest size minus the smallest at eps 0.1, each effect with its 95 % interval."""
    sizes = series["sizes"]
    if len(sizes) < 2:
        return f"One size measured so far ({sizes[0]['n_exc']:,} excitatory neurons): no trend yet."
    small, large = sizes[0]["n_exc"], sizes[-1]["n_exc"]
    parts = []
    for d in series["trend"]:
        what = d["name"].split(":")[0]
        what = ("clean accuracy" if what == "clean" else f"attack success rate under {what[:-len(' ASR')]}"
                if what.endswith(" ASR") else f"accuracy under {what}")
        parts.append(f"{what} {interval_text(Effect(**d))} points ({direction(d)})")
    return (f"From {small:,} to {large:,} excitatory neurons ({large:,} minus {small:,}, with its 95 % interval, "
            f"{TREND_HOW} on the test images): " + "; ".join(parts) + ".")


def pgd_gain_text(series: dict) -> str:
    """How much PGD takes beyond FGSM at each size (eps 0.1): ten steps that find no more than one are the sign
    of a gradient that informs less, and then a falling attack success rate is not robustness."""
    eps = MAIN_EPS
    gains = [(s["n_exc"], 100 * (f["adv_accuracy"]["value"] - g["adv_accuracy"]["value"])) for s in series["sizes"]
             if (f := row(s, "fgsm", eps)) and (g := row(s, "pgd", eps))]
    if not gains:
        return ""
    return (f" PGD's gain over FGSM at eps {eps:g} (accuracy points): "
            + ", ".join(f"{n:,} exc {d:+.1f}" for n, d in gains)
            + "; where it vanishes the twin's gradient stops finding more than one step does, so a falling attack "
              "success rate there may be the gradient failing rather than the network resisting: a gradient-free "
              "check decides (docs/attacks.md).")
