"""A sweep point as a job: its settings as a plain dict, its names, and what it is expected to cost.

:func:`make_job` builds the dict every point is (a model to train with its budget, and its measurement);
:func:`model_name` names the trained model (training settings only) and :func:`point_name` the point
(everything but where it runs), which are the cache's file names: a job that changes neither is never
recomputed. :func:`expected_seconds` and :func:`forecast` turn COST, the measured cost per unit of work
(analysis.sweep_costs, per dataset), into the progress bar's time and ``--estimate``'s table
(:func:`estimate`). analysis.sweep_points runs the jobs. A job off MNIST names its dataset ("dset"; CIFAR-10:
networks.train's CPU recipe, its hybrid SNN and converted SNN made from the seed's one CNN, :func:`needs_cnn`).
"""
from __future__ import annotations

from pathlib import Path

from analysis.defaults import (DT_PER_TAU, FULL_LEVELS, HYBRID_DSETS, JOB_DEFAULTS, ONE_CNN_PER_SEED, REFS,
                               REF_CONVERTED_TS, SPIKING_ENCODING)
from analysis.measurement import BRIAN_CHUNK, EVAL_VERSION, digest
from analysis.sweep_costs import COSTS
from bio.parameters import NetworkConfig
from networks import recipes

N_EXC = 100
REF_DT_MS = 0.5   # the released code's time step, at which COST's Brian2 figures were measured
DSET = "mnist"   # a job's dataset when it names none: every MNIST point (a job has "dset" only off MNIST)
# Besides "levels", which every job has. A converted job also names the CNN model it converts ("cnn_model", the
# model_name of :func:`cnn_job`: the CNN point of its seed, levels and budget), and so does a hybrid surrogate SNN
# job (CIFAR-10's, HYBRID_DSETS), which trains from that CNN; a surrogate SNN job has "encoding" only when it is
# not its dataset's (MNIST Poisson, JOB_DEFAULTS; CIFAR-10 direct, SPIKING_ENCODING); a job off MNIST has "dset".
TRAIN_KEYS = {"snn": ("T", "leak"), "cnn": (), "bio": ("tau_exc_ms", "present_ms"), "converted": ("T",)}
# A change of these re-evaluates, never retrains. "suite" (the attack suite, analysis.measurement.suite_spec) and
# "craft_at" (the reference protocol: the training settings of the model attacks are crafted on) are in a job
# only when asked for (--suite, --ensemble, --protocols), so the points measured without them keep their names.
EVAL_KEYS = ("n_test", "eps", "eot", "source", "eval_version", "suite", "craft_at")
# Where and on what a job runs, and how many seeds of it the sweep runs: never part of its result's name.
HOW = ("out", "data_dir", "torch_device", "n_seeds")


# --- jobs --------------------------------------------------------------------------
def make_job(kind: str, settings: dict, levels: int = FULL_LEVELS, encoding: str | None = None, **params) -> dict:
    """One point: a plain, JSON-able dict (model, training budget, evaluation, where to write). ``settings``'
    "dset" (default MNIST) is the dataset it trains and is measured on, named in the job only when it is not
    MNIST. ``encoding`` (surrogate SNNs; default the dataset's, SPIKING_ENCODING): "direct" feeds the image as a
    constant current instead of Poisson spikes. A converted job's budget is that of the CNN it converts
    (:func:`cnn_job`); its T defaults to the dataset's REF_CONVERTED_TS. Training settings not given are the
    dataset's reference (REFS); epochs not given the net's own on that dataset (networks.recipes: MNIST CNN 2,
    SNN 1; CIFAR-10's CPU recipe CNN 20, hybrid SNN 1)."""
    dset = settings.get("dset", DSET)
    if kind not in TRAIN_KEYS:
        raise ValueError(f"kind must be one of {', '.join(TRAIN_KEYS)}, not {kind!r}")
    if kind == "bio" and dset != DSET:
        raise ValueError(f"the Brian2 network (bio) runs on MNIST only, not {dset}")
    default_encoding = job_defaults(dset)["encoding"]
    encoding = encoding or default_encoding
    if encoding != default_encoding and kind != "snn":
        raise ValueError(f"encoding {encoding!r} is for surrogate SNN jobs, not {kind}")
    ref = dict(REFS[dset], T=REF_CONVERTED_TS[dset]) if kind == "converted" else REFS[dset]
    job = {"kind": kind, "levels": int(levels), **{k: params.get(k, ref[k]) for k in TRAIN_KEYS[kind]}}
    if encoding != default_encoding:
        job["encoding"] = encoding
    if dset != DSET:
        job["dset"] = dset
    job.update({k: settings[k] for k in ("n_test", "eps", "eot", "seed", "source", "data_dir", "out",
                                        "torch_device")}, eval_version=EVAL_VERSION)
    if kind == "bio":
        job.update(n_train=settings["bio_n_train"], n_label=settings["n_label"], n_exc=N_EXC,
                   dt_ms=min(0.5, DT_PER_TAU * job["tau_exc_ms"]))
    else:
        net = "cnn" if kind == "converted" else kind
        job.update(n_train=settings["n_train"], epochs=settings["epochs"] or net_epochs(net, dset))
        if kind == "snn" and dset in HYBRID_DSETS:   # the CNN it starts from: the sweep's CNN point's budget
            job["cnn_epochs"] = settings["epochs"] or net_epochs("cnn", dset)
    return with_seed(job, job["seed"])


def net_epochs(net: str, dset: str) -> int:
    """The epochs networks.train gives ``net`` on ``dset`` by default (its recipe's, if the dataset has recipes)."""
    recipe = recipes.DEFAULT_RECIPE if dset in recipes.RECIPES else None
    return recipes.defaults(net, dset, recipe)["epochs"]


def job_defaults(dset: str) -> dict:
    """The keys a job of ``dset`` carries only off these values (JOB_DEFAULTS; the encoding is the dataset's)."""
    return dict(JOB_DEFAULTS, encoding=SPIKING_ENCODING[dset])


def dset_of(job: dict) -> str:
    return job.get("dset", DSET)


def needs_cnn(job: dict) -> bool:
    """Whether the job's model is made from its seed's CNN (:func:`cnn_job`): a converted SNN, and a hybrid
    surrogate SNN (CIFAR-10's recipe: the CNN converted, then BPTT)."""
    return job["kind"] == "converted" or (job["kind"] == "snn" and dset_of(job) in HYBRID_DSETS)


def cnn_job(job: dict) -> dict:
    """The CNN point a converted (or hybrid SNN) job starts from: same dataset, seed, levels (trained on images
    pre-quantized to them), budget and measurement, so it is the sweep's own CNN point of those levels (the
    same model name). On CIFAR-10 (ONE_CNN_PER_SEED) every SNN of a seed starts from its one CNN at 256 levels;
    a hybrid SNN job names its CNN's epochs ("cnn_epochs": the recipe's 20), its own being its BPTT's."""
    keep = ("dset", "levels", "n_test", "eps", "eot", "seed", "source", "data_dir", "out", "torch_device",
            "eval_version", "n_train", "epochs")
    cnn = {"kind": "cnn", **{k: job[k] for k in keep if k in job}}
    if dset_of(job) in ONE_CNN_PER_SEED:
        cnn["levels"] = FULL_LEVELS
    if "cnn_epochs" in job:   # a hybrid SNN's own epochs are its BPTT's
        cnn["epochs"] = job["cnn_epochs"]
    return cnn


def with_seed(job: dict, seed: int) -> dict:
    """``job`` with another seed (a converted or hybrid SNN job then starts from that seed's CNN)."""
    job = dict(job, seed=seed)
    if needs_cnn(job):
        job["cnn_model"] = model_name(cnn_job(job))
    return job


def model_name(job: dict) -> str:
    """Names the trained model: everything training depends on, nothing else."""
    train = {k: v for k, v in job.items() if k not in EVAL_KEYS + HOW}
    tag = {"snn": "snn-leak{leak:g}-T{T}", "cnn": "cnn", "bio": "bio-tau{tau_exc_ms:g}-p{present_ms:g}",
           "converted": "converted-T{T}"}[job["kind"]]
    tag += f"-{job['encoding']}" if "encoding" in job else ""
    tag = f"{job['dset']}-{tag}" if "dset" in job else tag   # MNIST's names as they always were
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
    for k, v in job_defaults(dset_of(ref)).items():   # a key at its default is left out, as make_job does
        if ref.get(k) == v:
            del ref[k]
    return with_seed(ref, ref["seed"])


def deterministic(job: dict) -> bool:
    """A model without Poisson draws: one forward pass is its answer, and EOT is 1 (CIFAR-10's spiking models:
    direct input)."""
    return job["kind"] == "cnn" or job.get("encoding", job_defaults(dset_of(job))["encoding"]) == "direct"


def suite_work(job: dict) -> tuple[float, int]:
    """(gradients x Poisson draws, attacks scored) per test image of the job's attack suite beyond the FGSM
    column: the own backward functions (the Brian2 network: both twins) run every attack, the ensemble's
    members ``ensemble_attacks``. A converted SNN's attacks through its CNN (BPDA) are scored here but their
    gradients are the CNN's (:func:`bpda_gradients`)."""
    own, members, scored = suite_parts(job)
    return own + members, scored


def suite_parts(job: dict) -> tuple[float, float, int]:
    """:func:`suite_work` in parts: (gradients of the own backward functions, of the ensemble's members,
    attacks scored) per test image. The own part is what the reference protocol shares (:func:`craft_share`)."""
    spec = job.get("suite")
    if not spec:
        return 0.0, 0.0, 0
    one_draw = deterministic(reference_job(job) if job.get("craft_at") else job)   # that of the crafting model
    grads = suite_gradients(spec, 1 if one_draw else job["eot"], one_draw)
    member = suite_gradients(dict(spec, eot=spec.get("ensemble_eot", spec.get("eot", 1))), 0, one_draw)
    own = 2 if job["kind"] == "bio" else 1
    member_attacks = spec.get("ensemble_attacks", spec["attacks"])
    scored = (own + (job["kind"] == "converted")) * len(spec["attacks"]) + len(spec["ensemble"]) * len(member_attacks)
    return (own * sum(grads[a] for a in spec["attacks"]), len(spec["ensemble"]) * sum(member[a] for a in member_attacks),
            scored)


def suite_gradients(spec: dict, fgsm_draws: int, one_draw: bool) -> dict:
    """Gradients per image of each attack of a suite (``one_draw``: a deterministic model, no EOT)."""
    draws = 1 if one_draw else spec.get("eot", 1)
    return {"fgsm": fgsm_draws, "pgd": spec["pgd_steps"] * spec["pgd_restarts"] * draws,
            "apgd-ce": spec["apgd_iter"] * draws, "apgd-dlr": spec["apgd_iter"] * draws}


def bpda_gradients(job: dict) -> int:
    """CNN gradients per test image of a converted job's attacks through the CNN it came from: the FGSM
    delta, and with a suite every attack once more (no EOT: the CNN is deterministic)."""
    spec = job.get("suite")
    return 1 + (sum(suite_gradients(spec, 0, True)[a] for a in spec["attacks"]) if spec else 0)


def needed_references(jobs: list[dict]) -> list[dict]:
    """The models ``jobs`` need besides their own: the reference-protocol models they craft on
    (:func:`reference_job`) and the CNNs their converted and hybrid SNN jobs start from."""
    refs = [reference_job(j) for j in jobs if j.get("craft_at")]
    return refs + [cnn_job(j) for j in jobs + refs if needs_cnn(j)]


def trained(job: dict) -> bool:
    return (Path(job["out"]) / "runs" / model_name(job) / "metrics.json").exists()


def work_seconds(job: dict) -> tuple[float, float]:
    """(training, evaluation) wall seconds of one point on one core, forecast from its dataset's COST (COSTS). A
    figure a dataset's table lacks costs nothing (MNIST's test pass and conversion are in its other figures) or,
    for scoring ("snn_score"), a gradient's price, as MNIST's forecast always charged it."""
    c, n, eot = COSTS[dset_of(job)], job["n_test"], job["eot"]
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
    elif job["kind"] in ("snn", "converted"):
        # gradients at the crafting model's T (the reference protocol's: the reference T), scoring at the job's
        crafter = reference_job(job) if job.get("craft_at") else job
        crafted = n * c["snn_craft"] * crafter["T"] * ((1 if deterministic(crafter) else eot) + grads)
        score = c.get("snn_score", c["snn_craft"])
        if job["kind"] == "snn":   # a hybrid's CNN: expected_costs, as a converted job's
            train_s = (c["snn_train"] * job["n_train"] * job["epochs"] * job["T"] + c.get("snn_test", 0.0) * n * job["T"]
                       + (c.get("snn_convert", 0.0) if needs_cnn(job) else 0.0))
            eval_s = crafted + n * job["T"] * (c["snn_eval"] + score * scored)
        else:   # its CNN's training: expected_costs (the CNN is often a point of its own)
            train_s = c["converted_train"] + c["converted_test"] * job["n_test"] * job["T"]
            eval_s = crafted + n * (job["T"] * (c["converted_eval"] + score * scored)
                                    + c["cnn_craft"] * bpda_gradients(job))
    else:
        train_s, eval_s = c["cnn_train"] * job["n_train"] * job["epochs"], n * (c["cnn_eval"] + c["cnn_craft"] * grads)
    return train_s, eval_s


def craft_share(job: dict) -> tuple[str | None, float]:
    """(key, seconds) of the crafting a job may share with others: FGSM and the suite's attacks through the
    own backward functions of its crafting model (the reference protocol's: the reference model). Points
    with one key craft the same images (analysis.measurement.CraftedImages keeps them): the reference point
    and every reference-protocol point of its series and seed. Part of :func:`work_seconds`' evaluation."""
    if job["kind"] not in ("snn", "converted", "bio"):
        return None, 0.0
    crafter = reference_job(job) if job.get("craft_at") else job
    spec = job.get("suite") or {}
    key = digest({"crafter": model_name(crafter), "eps": job["eps"], "eot": job["eot"], "seed": job["seed"],
                  "suite": {k: spec.get(k) for k in ("attacks", "eot", "pgd_steps", "pgd_restarts", "apgd_iter")}})
    c, n, own = COSTS[dset_of(job)], job["n_test"], suite_parts(job)[0]
    if job["kind"] == "bio":
        steps = crafter["present_ms"] / crafter["dt_ms"]
        return key, n * c["bio_craft"] * steps * (job["eot"] + own)
    return key, n * c["snn_craft"] * crafter["T"] * ((1 if deterministic(crafter) else job["eot"]) + own)


def shared_crafting(jobs: list[dict]) -> list[float]:
    """Seconds of each job's evaluation that another job of the list crafts for it (:func:`craft_share`):
    of the jobs with one key, the first with the most test images crafts (a set of N images serves the
    first n < N), the crafting model's own point before a reference-protocol point; the others read its images
    back. A set a finished point already made is still charged
    to one job left (at most one crafting per key too many in a forecast)."""
    shares = [craft_share(j) for j in jobs]
    crafts: dict = {}
    for i, (key, _) in enumerate(shares):
        # of those with the most images, the crafting model's own point if it is in the list (it crafts its own)
        if key is not None and (key not in crafts or (jobs[i]["n_test"], not jobs[i].get("craft_at"))
                                > (jobs[crafts[key]]["n_test"], not jobs[crafts[key]].get("craft_at"))):
            crafts[key] = i
    return [0.0 if key is None or crafts[key] == i else secs for i, (key, secs) in enumerate(shares)]


def expected_seconds(job: dict, train_only: bool = False) -> float:
    """Forecast wall time of one point on one core (COST), less the training of a model already there
    (``train_only``: the training alone). The other models it needs (:func:`needed_references`) are
    charged once per list of jobs, by :func:`expected_costs`."""
    train_s, eval_s = work_seconds(job)
    own = 0.0 if trained(job) else train_s
    return own if train_only else eval_s + own


def expected_costs(jobs: list[dict], train_only: bool = False) -> list[float]:
    """:func:`expected_seconds` of each job, plus the training of every untrained model a job needs besides
    its own (:func:`needed_references`: the reference protocol's, a converted job's CNN) that no job of the
    list is the point of, added once, to the first job that needs it (it trains that model first:
    analysis.sweep_points.train); less the crafting another job of the list makes for it
    (:func:`shared_crafting`)."""
    cost = [expected_seconds(j, train_only) - (0.0 if train_only else shared)
            for j, shared in zip(jobs, shared_crafting(jobs))]
    charged = {model_name(j) for j in jobs}
    for i, job in enumerate(jobs):
        for model in needed_references([job]):
            if model_name(model) not in charged:
                charged.add(model_name(model))
                cost[i] += expected_seconds(model, train_only=True)
    return cost


def forecast(jobs: list[dict], n_jobs: int, train_only: bool = False) -> float:
    """Wall time of ``jobs`` started longest first on ``n_jobs`` workers (each to the first one free)."""
    free = [0.0] * max(1, n_jobs)
    for t in sorted(expected_costs(jobs, train_only), reverse=True):
        free[free.index(min(free))] += t
    return max(free)


def estimate(name: str, jobs: list[dict], n_jobs: int, note: str) -> dict:
    """What is left of a sweep and its expected time (COST), without running anything: the evaluation of
    every point left plus the training of every model missing, each counted once (points of one model, and
    the reference protocol's models, share it)."""
    left = [j for j in jobs if not (Path(j["out"]) / "points" / f"{point_name(j)}.json").exists()]
    models = {model_name(j): j for j in left + needed_references(left)}
    untrained = [j for j in models.values() if not trained(j)]

    saved = shared_crafting(left)

    def hours(kind=None):
        mine = [k for k, j in enumerate(left) if kind in (None, j["kind"])]
        return (sum(work_seconds(left[k])[1] - saved[k] for k in mine)
                + sum(work_seconds(j)[0] for j in untrained if kind in (None, j["kind"]))) / 3600
    total = {"one core": hours(), f"{n_jobs} at a time": forecast(left, n_jobs) / 3600,
             "training alone, one core": sum(work_seconds(j)[0] for j in untrained) / 3600}
    print(f"{name} ({note}): {len(left)} of {len(jobs)} points to compute, {len(untrained)} models to train; "
          + ", ".join(f"{k}: {v:.1f} h" for k, v in total.items()))
    for kind in sorted({j["kind"] for j in left}):
        print(f"  {kind}: {sum(j['kind'] == kind for j in left)} points, {hours(kind):.1f} h on one core")
    training: dict[str, list] = {}
    for j in untrained:
        training.setdefault(training_stage(j), []).append(work_seconds(j)[0] / 3600)
    if training:
        print("  training: " + ", ".join(f"{k} {len(v)} x {sum(v) / len(v):.2f} h = {sum(v):.1f} h"
                                         for k, v in sorted(training.items())))
    rows = point_rows(left, saved)
    if rows:
        print("  evaluation per point (one core; the crafting another point makes for it not counted):")
    for r in rows:
        print(f"    {r['point']}: {r['seeds']} seed(s) x {r['n_test']} images, {r['hours_each']:.2f} h each, "
              f"{r['hours']:.1f} h")
    return {"sweep": name, "points_left": len(left), "models_to_train": len(untrained), "hours": total,
            "training_hours": {k: sum(v) for k, v in training.items()}, "points": rows}


def training_stage(job: dict) -> str:
    """What training a model is, for --estimate's breakdown: a CNN, a conversion, a hybrid SNN's fine-tuning
    (conversion then BPTT), a surrogate SNN from random weights, a Brian2 network."""
    if job["kind"] == "snn" and needs_cnn(job):
        return "hybrid SNN fine-tuning"
    return {"cnn": "CNN", "converted": "conversion", "snn": "surrogate SNN", "bio": "Brian2"}[job["kind"]]


def point_label(job: dict) -> str:
    """A point's settings in words, seed left out (the rows of --estimate)."""
    train = {k: job[k] for k in TRAIN_KEYS[job["kind"]]}
    parts = [job["kind"]] + [f"{k} {v:g}" for k, v in train.items()] + [f"L{job['levels']}"]
    parts += [job["encoding"]] if "encoding" in job else []
    parts += [f"eps {job['eps']:g}"]
    spec = job.get("suite")
    parts += [spec["name"] if spec else "fgsm"]
    if job.get("craft_at"):
        parts += ["crafted at " + ", ".join(f"{k} {v:g}" if isinstance(v, (int, float)) else f"{k} {v}"
                                            for k, v in job["craft_at"].items())]
    return " ".join(parts)


def point_rows(jobs: list[dict], saved: list[float]) -> list[dict]:
    """--estimate's rows: per point setting (seeds together), its seeds, images and evaluation hours on one core
    (less ``saved``, the crafting another job makes for it: :func:`shared_crafting`), longest first."""
    rows: dict = {}
    for job, shared in zip(jobs, saved):
        key = (point_label(job), job["n_test"])
        row = rows.setdefault(key, {"point": key[0], "n_test": key[1], "seeds": 0, "hours": 0.0})
        row["seeds"] += 1
        row["hours"] += (work_seconds(job)[1] - shared) / 3600
    out = [dict(r, hours_each=r["hours"] / r["seeds"]) for r in rows.values()]
    return sorted(out, key=lambda r: -r["hours"])
