"""The damping measurement over seeds, from the sweeps' points (issue 28, item 4): nothing is computed anew.

Every sweep point is a damping measurement: analysis.measurement.evaluate() stores in its ``eval`` the
relative change per stage of each perturbation (``deltas[NAME]["change"][STAGE]``: value and a bootstrap
95 % interval over the point's test images), its ``stages`` and the Poisson ``noise_floor``. The converged
leak sweep (stage A, ``python -m analysis.leak_sweep --seeds 5 --tau-exc``) measures per seed the reference
surrogate SNN (leak 0.99, T 8, Poisson input, 256 levels, attacks crafted on itself) and the CNN, and stage C
the Brian2 network at tau_exc 100 ms, on 1,000 test images each. :func:`converged_damping` collects those
points (:func:`reference_points`: the reference setting of each kind, the swept protocol, one training
budget, :data:`BUDGET` unless told: a --quick point is never mixed in) and pools every number over the seeds
(:func:`pooled`): the mean and its 95 % t-interval over seeds (analysis.saved_results.mean_interval, the
interval of every sweep table); with one seed, that seed's value and its bootstrap interval over the test
images, and the model says so (``interval``). Pooled alike: the change per stage, its ratio to the input's
change (``ratio``; at the output that is the gain, analysis.damping.gain) and the noise floor.

Each model's entry has the shape of an evaluate() result (``label``, ``stages``, ``deltas`` -> name ->
``change`` -> stage -> {value, ci95}, ``noise_floor``, ``clean_accuracy``), so analysis.saved_results'
accessors and analysis.damping_figures' panels read it, plus ``per_seed`` values under every pooled number
(``{value, ci95, per_seed}``) for the claim's Welch interval over seeds (analysis.damping_claims.damping_claim).
``python -m analysis.damping --from-sweep results/sweeps/leak_sweep.json`` writes it to
``results/damping/converged.json``. Reads saved results only: numpy, scipy and analysis.saved_results.
"""
from __future__ import annotations

import math
from pathlib import Path

from analysis.defaults import CONVERGED, JOB_DEFAULTS, REF
from analysis.saved_results import FULL, mean_interval
from runstore.cli import UserError
from runstore.files import load_json

# The training and test budget of the converged sweeps (analysis.defaults.CONVERGED): a point counts only at it.
BUDGET = {"n_train": CONVERGED["n_train"], "bio_n_train": CONVERGED["bio_n_train"], "n_test": CONVERGED["n_test"],
          "eps": CONVERGED["eps"]}
# Each model kind's reference setting, as the sweeps hold it fixed (analysis.defaults.REF), at 256 levels.
REFERENCE = {"cnn": {}, "snn": {"leak": REF["leak"], "T": REF["T"]},
             "bio": {"tau_exc_ms": REF["tau_exc_ms"], "present_ms": REF["present_ms"]}}
DELTA_NAMES = ("transfer", "fgsm", "random")
ONE_SEED = "one seed: bootstrap 95 % interval over the test images, no interval over seeds"


class NoConvergedPoints(UserError):
    """The points read hold no reference point of the converged budget."""


def seeds_interval(k: int) -> str:
    return f"95 % t-interval of the mean over {k} seeds" if k >= 2 else ONE_SEED


# --- which points -----------------------------------------------------------------------------------
def in_budget(job: dict, budget: dict) -> bool:
    """Whether a point was trained and measured at ``budget``: its training images (a Brian2 point's STDP
    examples: ``bio_n_train``), at least ``n_test`` test images, and the eps."""
    n_train = budget["bio_n_train"] if job["kind"] == "bio" else budget["n_train"]
    return job.get("n_train") == n_train and job.get("n_test", 0) >= budget["n_test"] \
        and math.isclose(job.get("eps", math.nan), budget["eps"])


def at_reference(job: dict) -> bool:
    """Whether a point is its kind's reference model (:data:`REFERENCE`, 256 levels, Poisson input) with its
    attacks crafted on itself (no ``craft_at``)."""
    fixed = REFERENCE.get(job["kind"])
    return fixed is not None and "craft_at" not in job and job.get("levels") == FULL \
        and all(job.get(k, v) == v for k, v in JOB_DEFAULTS.items()) \
        and all(job.get(k) is not None and math.isclose(job[k], v) for k, v in fixed.items())


def reference_points(points: list[dict], budget: dict | None = None) -> dict[str, list[dict]]:
    """Kind -> its reference points at ``budget`` (default :data:`BUDGET`), one per seed, in seed order (of
    several points of one seed, the one on the most test images, then the first by name)."""
    budget = budget or BUDGET
    out: dict[str, dict[int, dict]] = {}
    for p in sorted(points, key=lambda p: (-p["job"].get("n_test", 0), p.get("name") or "")):
        j = p["job"]
        if at_reference(j) and in_budget(j, budget):
            out.setdefault(j["kind"], {}).setdefault(j["seed"], p)
    return {k: [by_seed[s] for s in sorted(by_seed)] for k, by_seed in
            sorted(out.items(), key=lambda kv: list(REFERENCE).index(kv[0]))}


def read_points(source) -> list[dict]:
    """The points of a sweep summary (a JSON file with "points", analysis.sweep_points.sweep) or of a folder
    of point files (``OUT/points/``)."""
    source = Path(source)
    if source.is_dir():
        found = [load_json(f) for f in sorted(source.glob("*.json"))]
    else:
        found = load_json(source).get("points", [])
    return [p for p in found if isinstance(p, dict) and "job" in p and "eval" in p]


# --- pooling over seeds -------------------------------------------------------------------------------
def number(v) -> float | None:
    return None if v is None or (isinstance(v, float) and math.isnan(v)) else float(v)


def pooled(values: list, one_ci=None) -> dict:
    """{value, ci95, per_seed} of one number measured on each seed: the mean and its 95 % t-interval over the
    seeds (analysis.saved_results.mean_interval); one seed: its value and ``one_ci`` (its bootstrap interval
    over the test images) or None. A seed without the number makes the pooled one None."""
    vals = [number(v) for v in values]
    if not vals or any(v is None for v in vals):
        return {"value": None, "ci95": None, "per_seed": vals}
    if len(vals) == 1:
        return {"value": vals[0], "ci95": None if one_ci is None else [float(c) for c in one_ci], "per_seed": vals}
    m, h = mean_interval(vals)
    return {"value": m, "ci95": [m - h, m + h], "per_seed": vals}


def stage_value(by_stage: dict | None, stage: str) -> float | None:
    """The value of a {stage: {value, ci95}} summary at ``stage`` (None where it has none)."""
    s = (by_stage or {}).get(stage)
    return None if s is None else number(s.get("value"))


def pooled_stages(evs: list[dict], get, stages: list[str], over_input: bool = False) -> dict:
    """Stage -> :func:`pooled` of ``get(eval)[stage]`` (a {value, ci95} summary per stage) over the seeds;
    ``over_input``: each seed's value over its value at the first stage (with one seed, the bootstrap
    interval over the first stage's value, as analysis.damping_claims.damped_effect reads it)."""
    out = {}
    for stage in stages:
        vals = [stage_value(get(ev), stage) for ev in evs]
        one = (get(evs[0]) or {}).get(stage, {}).get("ci95") if len(evs) == 1 else None
        if over_input:
            firsts = [stage_value(get(ev), stages[0]) for ev in evs]
            vals = [None if v is None or not f else v / f for v, f in zip(vals, firsts)]
            one = None if one is None or not firsts[0] else [c / firsts[0] for c in one]
        out[stage] = pooled(vals, one)
    return out


def pooled_model(kind: str, pts: list[dict]) -> dict:
    """One kind's reference points (one per seed) as one evaluate()-shaped result, every number pooled."""
    evs = [p["eval"] for p in pts]
    stages = evs[0]["stages"]
    if any(ev["stages"] != stages for ev in evs):
        raise ValueError(f"{kind}: the seeds' points have different stages")
    k = len(pts)
    deltas = {}
    for name in DELTA_NAMES:
        if not all(name in ev["deltas"] for ev in evs):
            continue
        ratio = pooled_stages(evs, lambda ev: ev["deltas"][name]["change"], stages, over_input=True)
        deltas[name] = {
            **{key: float(sum(ev["deltas"][name][key] for ev in evs) / k) for key in ("adv_accuracy",
                                                                                     "attack_success_rate")},
            "change": pooled_stages(evs, lambda ev: ev["deltas"][name]["change"], stages),
            "ratio": ratio, "gain": ratio["output"]}
    floors = all(ev.get("noise_floor") for ev in evs)
    return {"kind": kind, "label": evs[0]["label"], "seeds": [p["job"]["seed"] for p in pts],
            "points": [p.get("name") for p in pts], "n": min(p["job"]["n_test"] for p in pts), "n_seeds": k,
            "interval": seeds_interval(k), "eps": evs[0]["eps"], "levels": evs[0].get("levels", FULL),
            "clean_accuracy": float(sum(ev["clean_accuracy"] for ev in evs) / k),
            "clean": pooled([ev["clean_accuracy"] for ev in evs]), "stages": stages, "deltas": deltas,
            "noise_floor": pooled_stages(evs, lambda ev: ev["noise_floor"], stages) if floors else None,
            "sources": sorted({str(p["job"].get("source")) for p in pts})}


def converged_damping(points: list[dict], budget: dict | None = None, source: str = "") -> dict:
    """The damping measurement of the reference models over seeds, from sweep points (:func:`read_points`):
    per kind (cnn, snn, bio, those present) its pooled result (:func:`pooled_model`). Raises
    :class:`NoConvergedPoints` when no reference point of the budget is among them."""
    budget = dict(budget or BUDGET)
    chosen = reference_points(points, budget)
    if not chosen:
        raise NoConvergedPoints(
            f"{source or 'the points given'} holds no reference point of the converged budget "
            f"({budget['n_train']:,} training images, >= {budget['n_test']:,} test images, eps {budget['eps']:g}: "
            "the CNN, the SNN at leak {leak:g} and T {T}, or Brian2 at tau_exc {tau:g} ms); run the converged leak "
            "sweep first (python -m analysis.leak_sweep --seeds 5 --tau-exc) or read its points folder "
            "(--from-sweep results/sweeps/points)".format(leak=REF["leak"], T=REF["T"], tau=REF["tau_exc_ms"]))
    models = {kind: pooled_model(kind, pts) for kind, pts in chosen.items()}
    return {"source": str(source), "budget": budget, "reference": {k: dict(v, levels=FULL) for k, v in
                                                                   REFERENCE.items()},
            "eps": budget["eps"], "n_seeds": {k: m["n_seeds"] for k, m in models.items()}, "models": models}


def seeds_of(converged: dict | None, kind: str) -> int:
    """How many seeds ``kind`` has in a converged damping result (0: none, or no result)."""
    return ((converged or {}).get("models", {}).get(kind) or {}).get("n_seeds", 0)
