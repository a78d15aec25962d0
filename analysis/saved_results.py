"""Reading the saved summaries of analysis.damping and the sweeps: numbers out of JSON, nothing computed.

Shared by the figure families (analysis.damping_figures, analysis.sweep_figures) and
analysis.report. Numpy and the constants of analysis.defaults only.
"""
from __future__ import annotations

import json
import math

import numpy as np
from scipy import stats

from analysis.defaults import DEFAULTS, FULL_LEVELS, JOB_DEFAULTS, REF, REF_CONVERTED_T

FULL = FULL_LEVELS   # quantization levels of the 8-bit originals: no pre-quantization


def value_of(summary):
    return np.nan if summary is None or summary.get("value") is None else summary["value"]


def changes(res: dict, delta: str):
    d = res["deltas"][delta]["change"]
    return np.array([value_of(d.get(s)) for s in res["stages"]])


def main_delta(res: dict) -> str:
    """The perturbation compared across models: the same d for all (transfer) when there is one."""
    return "transfer" if "transfer" in res["deltas"] else "fgsm"


def stage_ratio(res: dict, stage: str, delta: str | None = None) -> float:
    """Change at ``stage`` over change at the first stage (what the network was given)."""
    c = dict(zip(res["stages"], changes(res, delta or main_delta(res))))
    return c[stage] / c[res["stages"][0]] if c[res["stages"][0]] else np.nan


def last_hidden(res: dict) -> str:
    hidden = [s for s in res["stages"] if s.startswith("L") or s == "exc counts"]
    rates = [s for s in hidden if not s.endswith("mem")]
    return (rates or hidden or [res["stages"][-1]])[-1]


def adv(res: dict, delta: str, key: str = "adv_accuracy") -> float:
    d = res["deltas"].get(delta)
    return np.nan if d is None else d[key]


def redraw(res: dict) -> str:
    """ASR of a fresh Poisson draw with no perturbation at all: the floor of a stochastic model's ASR."""
    return pct(res["redraw"]["attack_success_rate"]) if res.get("redraw") else "-"


def pct(v) -> str:
    return "-" if v is None or (isinstance(v, float) and math.isnan(v)) else f"{100 * v:.1f}"


def num(v, fmt=".2f") -> str:
    return "-" if v is None or (isinstance(v, float) and math.isnan(v)) else format(v, fmt)


def pooled_text(r: dict | None, scale: float = 1.0, fmt: str = ".2f") -> str:
    """A {value, ci95} summary (analysis.damping_seeds' pooled numbers) as "0.58 [0.55, 0.61]", times ``scale``;
    without an interval the value alone, without a value "-"."""
    if not r or r.get("value") is None:
        return "-"
    ci = r.get("ci95")
    return num(scale * r["value"], fmt) + (f" [{num(scale * ci[0], fmt)}, {num(scale * ci[1], fmt)}]" if ci else "")


def main_eps(data: dict) -> str:
    """The eps the report and the damping figure show: the sweeps' eps when it was measured."""
    eps = sorted({e for k in data["models"] for e in data["models"][k]}, key=float)
    return f"{DEFAULTS['eps']:g}" if f"{DEFAULTS['eps']:g}" in eps else eps[0]


def number_at(*path):
    """eval -> the number under the keys ``path`` (eval["worst_case"]["adv_accuracy"]...), nan where the
    point has none (measured without the attack suite or the ensemble)."""
    def get(ev):
        for k in path:
            ev = (ev or {}).get(k)
        return math.nan if ev is None else ev
    return get


# the two protocols of a sweep point (analysis.sweep_points.with_measurements), as tables and figures name them
PROTOCOLS = {"swept": "crafted at the swept setting",
             "reference": "crafted at the reference setting, scored at the swept one"}


def points_of(summary: dict, kind: str, key: str, fixed: dict, protocol: str = "swept") -> list[dict]:
    """The sweep's points of ``kind`` with every setting in ``fixed``, sorted by ``key``; the seeds of
    one point merged into one (:func:`merge_seeds`). ``protocol``: "swept" the points whose attacks are
    crafted on their own model, "reference" those crafted at the reference setting (a job's ``craft_at``,
    analysis.sweep_points.with_measurements). A job without a key of JOB_DEFAULTS has its default: the
    surrogate SNN's direct-input point is left out unless ``fixed`` asks for {"encoding": "direct"}."""
    fixed = {**JOB_DEFAULTS, **fixed}
    pts = [p for p in summary["points"] if p["job"]["kind"] == kind
           and all(p["job"].get(k, JOB_DEFAULTS.get(k)) == v for k, v in fixed.items())
           and ("craft_at" in p["job"]) == (protocol == "reference")]
    return sorted(merge_seeds(pts), key=lambda p: p["job"].get(key, JOB_DEFAULTS.get(key)))


def reference_series(pts: list[dict], ref_pts: list[dict], key: str) -> tuple[list[dict], float | None]:
    """A series under the reference protocol, in the order of its swept points ``pts``: its
    reference-protocol points ``ref_pts`` and, at the reference setting itself (where the two protocols
    are one point), the swept point; and that setting (None without reference-protocol points)."""
    if not ref_pts:
        return [], None
    at = ref_pts[0]["job"]["craft_at"][key]
    by_value = {p["job"][key]: p for p in ref_pts}
    by_value.update({p["job"][key]: p for p in pts if p["job"][key] == at})
    return [by_value[p["job"][key]] for p in pts if p["job"][key] in by_value], at


# --- several seeds per point ------------------------------------------------------------------
def _mean_tree(trees: list):
    """Numbers averaged leaf by leaf over trees of one shape; a {"value", "ci95"} summary gets the mean
    value and, from 2 trees on, the 95 % t-interval of the mean over them; anything else: the first's."""
    first = trees[0]
    if isinstance(first, dict):
        if "value" in first and "ci95" in first:
            vals = [t.get("value") for t in trees]
            if any(v is None for v in vals):
                return {"value": None, "ci95": None}
            m, h = mean_interval(vals)
            return {"value": m, "ci95": [m - h, m + h]}
        return {k: _mean_tree([t[k] for t in trees]) for k in first if all(isinstance(t, dict) and k in t
                                                                           for t in trees)}
    if isinstance(first, bool) or not isinstance(first, (int, float)) or any(t is None for t in trees):
        return first
    return float(np.mean(trees))


def mean_interval(values) -> tuple[float, float]:
    """Mean and half-width of its 95 % t-interval (0 for one value)."""
    v = np.asarray(values, dtype=float)
    if len(v) < 2:
        return float(v.mean()), 0.0
    return float(v.mean()), float(stats.t.ppf(0.975, len(v) - 1) * v.std(ddof=1) / math.sqrt(len(v)))


SEED_KEYS = ("seed", "cnn_model")   # job keys that differ between the seeds of one point


def merge_seeds(points: list[dict]) -> list[dict]:
    """Points that differ only in their seed become one: its eval the mean over seeds, ``seeds`` the
    seeds and ``per_seed`` the points themselves (for intervals and tests). A point of one seed is
    returned as it is, with ``per_seed`` [itself]. A converted SNN's "cnn_model" (the CNN of its seed)
    differs with the seed too."""
    groups: dict[str, list[dict]] = {}
    for p in points:
        groups.setdefault(json.dumps({k: v for k, v in p["job"].items() if k not in SEED_KEYS}, sort_keys=True,
                                     default=str), []).append(p)
    out = []
    for ps in groups.values():
        ps = sorted(ps, key=lambda p: p["job"]["seed"])
        if len(ps) == 1:
            out.append({**ps[0], "seeds": [ps[0]["job"]["seed"]], "per_seed": ps})
            continue
        out.append({"name": ps[0].get("name"), "job": ps[0]["job"], "eval": _mean_tree([p["eval"] for p in ps]),
                    "seeds": [p["job"]["seed"] for p in ps], "per_seed": ps})
    return out


def seed_points(point: dict) -> list[dict]:
    """The points, one per seed, of a (merged) point."""
    return point.get("per_seed", [point])


def seed_values(point: dict, get) -> list[float]:
    """``get(eval)`` of every seed of a (merged) point."""
    return [get(p["eval"]) for p in seed_points(point)]


def spread(point: dict, get) -> float:
    """Half-width of the 95 % interval over the point's seeds of ``get(eval)`` (0 with one seed)."""
    return mean_interval(seed_values(point, get))[1]


def quant_points(summary, kind, protocol: str = "swept"):
    """The timestep sweep's points of ``kind`` on quantized inputs (by levels), at the reference setting (the
    converted SNN's: its levels series, :func:`converted_points`)."""
    if kind == "converted":
        return converted_points(summary, "levels", protocol)
    fixed = {"snn": {"T": REF["T"], "leak": summary["leak"]},
             "bio": {"present_ms": REF["present_ms"], "tau_exc_ms": REF["tau_exc_ms"]},
             "cnn": {}}[kind]
    return points_of(summary, kind, "levels", fixed, protocol)


def converted_points(summary: dict, key: str, protocol: str = "swept") -> list[dict]:
    """The converted SNN's series of the time-step sweep (analysis.timestep_sweep), seeds merged: ``key`` "T"
    the time steps at 256 levels (summary["converted_timesteps"]), "levels" the pre-quantization levels at
    its reference T (summary["converted_levels"] at summary["converted_T"]). Each point's eval has the deltas
    "fgsm" (through its own surrogate, EOT), "bpda" (FGSM through the CNN it was converted from), "transfer"
    and "random"; with --suite full its attacks through both ("pgd", "pgd/bpda", ...) and their worst case."""
    fixed = {"levels": FULL} if key == "T" else {"T": summary.get("converted_T", REF_CONVERTED_T)}
    return points_of(summary, "converted", key, fixed, protocol)


def encoding_points(summary: dict, protocol: str = "swept") -> list[dict]:
    """The surrogate SNN at the reference T with each input encoding of summary["encodings"] (Poisson: the T
    series' reference point; direct: the image as a constant current, deterministic, so EOT 1 and no redraw
    floor), seeds merged, in that order; a job's "encoding" key is absent for Poisson."""
    fixed = {"T": REF["T"], "leak": summary["leak"], "levels": FULL}
    return [p for e in summary.get("encodings", []) for p in points_of(summary, "snn", "T", {**fixed, "encoding": e},
                                                                       protocol)]
