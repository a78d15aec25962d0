"""A sweep point as a job: its settings as a plain dict, its names, and what it is expected to cost.

:func:`make_job` builds the dict every point is (a model to train with its budget, and its measurement);
:func:`model_name` names the trained model (training settings only) and :func:`point_name` the point
(everything but where it runs), which are the cache's file names: a job that changes neither is never
recomputed. :func:`expected_seconds` and :func:`forecast` turn COST, the measured cost per unit of work,
into the progress bar's time and ``--estimate``'s table (:func:`estimate`). analysis.sweep_points runs
the jobs.
"""
from __future__ import annotations

from pathlib import Path

from analysis.defaults import DT_PER_TAU, FULL_LEVELS, REF
from analysis.measurement import BRIAN_CHUNK, EVAL_VERSION, digest
from bio.parameters import NetworkConfig
from networks.recipes import NET_DEFAULTS

N_EXC = 100
REF_DT_MS = 0.5   # the released code's time step, at which COST's Brian2 figures were measured
DSET = "mnist"   # every point trains and is measured on it
TRAIN_KEYS = {"snn": ("T", "leak"), "cnn": (), "bio": ("tau_exc_ms", "present_ms")}
# A change of these re-evaluates, never retrains. "suite" (the attack suite, analysis.measurement.suite_spec) and
# "craft_at" (the reference protocol: the training settings of the model attacks are crafted on) are in a job
# only when asked for (--suite, --ensemble, --protocols), so the points measured without them keep their names.
EVAL_KEYS = ("n_test", "eps", "eot", "source", "eval_version", "suite", "craft_at")
# Where and on what a job runs, and how many seeds of it the sweep runs: never part of its result's name.
HOW = ("out", "data_dir", "torch_device", "n_seeds")
# Wall seconds per unit of work, fitted to the default sweeps' recorded trainings and evaluations
# on the 2-core machine of this study (one job per core, the machine shared). They only feed the
# progress bar's forecast and the order jobs start in (longest first, so no long job starts last).
COST = {"cnn_train": 4.5e-3,     # per training image and epoch
        "cnn_eval": 1e-2,        # per test image
        "cnn_craft": 2e-4,       # per test image and gradient (the attack suite)
        "snn_train": 1.8e-3,     # per training image, epoch and time step
        "snn_eval": 1.1e-2,      # per test image and time step, besides crafting
        # per test image, time step and EOT draw (one gradient): benchmarks/suite_cost.py, 2026-12-07 (0.7e-3 at
        # load ~2; 1.1e-3 was the earlier guess)
        "snn_craft": 0.75e-3,
        "bio_build": 80.0,       # compiling one configuration's standalone binary
        # per presentation and simulated ms at the released dt (quiet examples shown again: x1.2): the 3-seed
        # sweep's seed-1/2 points at tau 100 (after the Brian2 speed-ups of 2026-12-06; 3.1-4.0 ms per
        # example, machine shared), 4.5e-5 before them
        "bio_present": 7e-6,
        "bio_eval": 0.1,         # per test image: the Brian2 runs
        "bio_craft": 1e-4}       # per test image, twin step and EOT draw


# --- jobs --------------------------------------------------------------------------
def make_job(kind: str, settings: dict, levels: int = FULL_LEVELS, **params) -> dict:
    """One point: a plain, JSON-able dict (model, training budget, evaluation, where to write)."""
    if kind not in TRAIN_KEYS:
        raise ValueError(f"kind must be one of {', '.join(TRAIN_KEYS)}, not {kind!r}")
    job = {"kind": kind, "levels": int(levels), **{k: params.get(k, REF[k]) for k in TRAIN_KEYS[kind]}}
    job.update({k: settings[k] for k in ("n_test", "eps", "eot", "seed", "source", "data_dir", "out",
                                        "torch_device")}, eval_version=EVAL_VERSION)
    if kind == "bio":
        job.update(n_train=settings["bio_n_train"], n_label=settings["n_label"], n_exc=N_EXC,
                   dt_ms=min(0.5, DT_PER_TAU * job["tau_exc_ms"]))
    else:
        job.update(n_train=settings["n_train"], epochs=settings["epochs"] or NET_DEFAULTS[kind]["epochs"])
    return job


def model_name(job: dict) -> str:
    """Names the trained model: everything training depends on, nothing else."""
    train = {k: v for k, v in job.items() if k not in EVAL_KEYS + HOW}
    tag = {"snn": "snn-leak{leak:g}-T{T}", "cnn": "cnn", "bio": "bio-tau{tau_exc_ms:g}-p{present_ms:g}"}[job["kind"]]
    return f"{tag.format(**job)}-L{job['levels']}-{digest(train)}"


def point_name(job: dict) -> str:
    return f"{model_name(job)}-{digest({k: v for k, v in job.items() if k not in HOW})}"


def reference_job(job: dict) -> dict:
    """The job whose model the reference protocol crafts on: ``job`` at the training settings its
    ``craft_at`` names (the same seed and budget; the Brian2 network's dt follows its tau)."""
    ref = {k: v for k, v in job.items() if k != "craft_at"}
    ref.update(job["craft_at"])
    if ref["kind"] == "bio":
        ref["dt_ms"] = min(0.5, DT_PER_TAU * ref["tau_exc_ms"])
    return ref


def suite_work(job: dict) -> tuple[float, int]:
    """(gradients x Poisson draws, attacks scored) per test image of the job's attack suite beyond the FGSM
    column: the own backward functions (the Brian2 network: both twins) run every attack, the ensemble's
    members ``ensemble_attacks``."""
    spec = job.get("suite")
    if not spec:
        return 0.0, 0
    def grads(draws):
        draws = 1 if job["kind"] == "cnn" else draws   # the CNN is deterministic
        return {"fgsm": 1 if job["kind"] == "cnn" else job["eot"], "pgd": spec["pgd_steps"] * spec["pgd_restarts"] * draws,
                "apgd-ce": spec["apgd_iter"] * draws, "apgd-dlr": spec["apgd_iter"] * draws}
    own, member = grads(spec.get("eot", job["eot"])), grads(spec.get("ensemble_eot", spec.get("eot", job["eot"])))
    n_own = 2 if job["kind"] == "bio" else 1
    member_attacks = spec.get("ensemble_attacks", spec["attacks"])
    return (n_own * sum(own[a] for a in spec["attacks"]) + len(spec["ensemble"]) * sum(member[a] for a in member_attacks),
            n_own * len(spec["attacks"]) + len(spec["ensemble"]) * len(member_attacks))


def needed_references(jobs: list[dict]) -> list[dict]:
    """The reference-protocol models ``jobs`` craft on (:func:`reference_job`)."""
    return [reference_job(j) for j in jobs if j.get("craft_at")]


def trained(job: dict) -> bool:
    return (Path(job["out"]) / "runs" / model_name(job) / "metrics.json").exists()


def work_seconds(job: dict) -> tuple[float, float]:
    """(training, evaluation) wall seconds of one point on one core, forecast from COST."""
    c, n, eot = COST, job["n_test"], job["eot"]
    grads, scored = suite_work(job)
    if job["kind"] == "bio":
        steps = job["present_ms"] / job["dt_ms"]
        # COST's Brian2 figures are at the released dt; a shorter tau takes a finer dt, and the saved points cost
        # about its square (tau 50, dt/2: 2.6x; tau 20, dt/5: 31x training, 8x evaluation): more steps, and
        # the faster membrane fires more
        finer = (REF_DT_MS / job["dt_ms"]) ** 2
        presented = 1.2 * job["n_train"] + job["n_label"] + min(BRIAN_CHUNK, job["n_label"])
        train_s = c["bio_build"] + finer * c["bio_present"] * presented * (job["present_ms"] + NetworkConfig.rest_ms)
        eval_s = n * (finer * c["bio_eval"] * (1 + scored) + c["bio_craft"] * steps * (eot + grads))
    elif job["kind"] == "snn":
        train_s = c["snn_train"] * job["n_train"] * job["epochs"] * job["T"]
        eval_s = n * job["T"] * (c["snn_eval"] + c["snn_craft"] * (eot + grads + scored))
    else:
        train_s, eval_s = c["cnn_train"] * job["n_train"] * job["epochs"], n * (c["cnn_eval"] + c["cnn_craft"] * grads)
    return train_s, eval_s


def expected_seconds(job: dict, train_only: bool = False) -> float:
    """Forecast wall time of one point on one core (COST), less the training of a model already there
    (``train_only``: the training alone); with the reference protocol, the reference model's training too."""
    train_s, eval_s = work_seconds(job)
    if train_only:
        return 0.0 if trained(job) else train_s
    ref_s = 0.0
    if job.get("craft_at") and not trained(reference_job(job)):
        ref_s = expected_seconds(reference_job(job), train_only=True)
    return eval_s + (0.0 if trained(job) else train_s) + ref_s


def forecast(jobs: list[dict], n_jobs: int, train_only: bool = False) -> float:
    """Wall time of ``jobs`` started longest first on ``n_jobs`` workers (each to the first one free)."""
    free = [0.0] * max(1, n_jobs)
    for t in sorted((expected_seconds(j, train_only) for j in jobs), reverse=True):
        free[free.index(min(free))] += t
    return max(free)


def estimate(name: str, jobs: list[dict], n_jobs: int, note: str) -> dict:
    """What is left of a sweep and its expected time (COST), without running anything: the evaluation of
    every point left plus the training of every model missing, each counted once (points of one model, and
    the reference protocol's models, share it)."""
    left = [j for j in jobs if not (Path(j["out"]) / "points" / f"{point_name(j)}.json").exists()]
    models = {model_name(j): j for j in left + needed_references(left)}
    untrained = [j for j in models.values() if not trained(j)]

    def hours(kind=None):
        mine = [j for j in left if kind in (None, j["kind"])]
        return (sum(work_seconds(j)[1] for j in mine)
                + sum(work_seconds(j)[0] for j in untrained if kind in (None, j["kind"]))) / 3600
    total = {"one core": hours(), f"{n_jobs} at a time": forecast(left, n_jobs) / 3600,
             "training alone, one core": sum(work_seconds(j)[0] for j in untrained) / 3600}
    print(f"{name} ({note}): {len(left)} of {len(jobs)} points to compute, {len(untrained)} models to train; "
          + ", ".join(f"{k}: {v:.1f} h" for k, v in total.items()))
    for kind in sorted({j["kind"] for j in left}):
        print(f"  {kind}: {sum(j['kind'] == kind for j in left)} points, {hours(kind):.1f} h on one core")
    return {"sweep": name, "points_left": len(left), "models_to_train": len(untrained), "hours": total}
