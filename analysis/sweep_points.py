"""The points of the leak and time-step sweeps: jobs, their names, training and measuring one, running many.

Each point is an independent job, a plain dict (:func:`make_job`): a model to train (a surrogate SNN,
a CNN, a converted SNN (converted from the CNN point of its seed and levels) or the Brian2 network, with
its training budget; on CIFAR-10, ``--dset cifar10``, the surrogate SNN is the hybrid, fine-tuned from its
seed's CNN point, and every converted SNN converts that CNN) and its evaluation, the measurement of
analysis.measurement (:func:`analysis.measurement.evaluate`). :func:`run_jobs` runs them
``--jobs N`` at a time on a local dask cluster of N processes (default: one per usable core), or with
``--scheduler ADDRESS`` on a running dask scheduler's workers (analysis.cluster), seed by seed and
longest expected first within a seed; ``--seeds N`` trains each point N times and the tables and figures
show mean and 95 % interval.
The progress bar states the expected wall time (:func:`forecast`, from COST) and advances by expected
work, so its time left is meaningful although points differ a hundredfold. A finished point is cached
as ``OUT/points/NAME.json`` (NAME carries a hash of the job, :func:`point_name`) and trained models
are kept in ``OUT/runs/``, so an interrupted sweep resumes, and the two sweeps, writing to the same
folder, share the points they have in common. :func:`sweep` is what both CLIs run (their shared options:
analysis.sweep_options);
:func:`with_measurements` adds what ``--suite``, ``--ensemble`` and ``--protocols`` ask for to a series'
jobs (new job keys, so points measured without them keep their names).
"""
from __future__ import annotations

import time
from pathlib import Path

import torch
from tqdm.auto import tqdm

from analysis import sweep_options
from analysis.cluster import run_tasks
from analysis.defaults import FULL_LEVELS, REFS
from analysis.measurement import BRIAN_CHUNK, CraftedImages, evaluate, load_test, quantize_uint8, \
    shared_deltas, subject
from analysis.measurement.evaluation import suite_spec
from analysis.sweep_jobs import (cnn_job, dset_of, estimate, expected_costs, expected_seconds, forecast,
                                 job_defaults, model_name, needed_references, needs_cnn, point_name, reference_job,
                                 with_seed)
from analysis.sweep_options import scale_note
from networks.devices import torch_device
from networks.registry import load_model
from runstore.cli import PartialFailure
from runstore.files import load_json, save_json
from runstore.locks import run_lock
from runstore.provenance import provenance

# The command line both sweeps share, where their callers have always found it (analysis.sweep_options).
add_common, settings, MEASURED = sweep_options.add_common, sweep_options.settings, sweep_options.MEASURED


def quantized(data: tuple, levels: int) -> tuple:
    """(x_train, y_train, x_test, y_test) with both image sets pre-quantized to ``levels`` levels."""
    if levels >= FULL_LEVELS:
        return data
    x_train, y_train, x_test, y_test = data
    return quantize_uint8(x_train, levels), y_train, quantize_uint8(x_test, levels), y_test


def train(job: dict, run_dir: Path) -> dict:
    """Train the job's model into ``run_dir`` unless it is there; its metrics. A converted job's training is
    the conversion of its CNN (:func:`analysis.sweep_jobs.cnn_job`, trained first if missing, under its lock),
    calibrated on the job's pre-quantized training images (MNIST: those the CNN learned from; CIFAR-10: the
    seed's one CNN learned from the originals); a hybrid SNN job's (CIFAR-10) is networks.train --net snn
    --from that CNN: its conversion, then BPTT. Everything else is networks.train's recipe for the dataset."""
    if (run_dir / "metrics.json").exists():
        return load_json(run_dir / "metrics.json")
    dset = dset_of(job)
    common = dict(dset=dset, seed=job["seed"], out=str(run_dir), no_progress=True, n_train=job["n_train"],
                  data_dir=job["data_dir"])
    if job["kind"] == "bio":
        from bio import train_stdp
        chunk = min(BRIAN_CHUNK, job["n_label"])
        args = train_stdp.options(**common, n_exc=job["n_exc"], tau_exc=job["tau_exc_ms"], present_ms=job["present_ms"],
                                  dt=job["dt_ms"], n_label=job["n_label"], n_test=chunk, chunk_size=chunk,
                                  resume=(run_dir / "checkpoint.npz").exists())
        return train_stdp.run(args, quantized(train_stdp.load_data(dset, job["data_dir"]), job["levels"]))
    from networks import pipeline, settings as torch_settings
    spiking = dict(timesteps=job["T"], leak=job["leak"]) if job["kind"] == "snn" else {}
    spiking.update({"encoding": job["encoding"]} if "encoding" in job else {})
    if needs_cnn(job):
        if job["cnn_model"] != model_name(cnn_job(job)):
            raise ValueError(f"{job['kind']} job names CNN {job['cnn_model']}, but its seed and budget give "
                             f"{model_name(cnn_job(job))} (set its seed with analysis.sweep_jobs.with_seed)")
        cnn_dir, _ = train_locked(cnn_job(job))
        if job["kind"] == "converted":
            spiking = dict(timesteps=job["T"], from_dir=str(cnn_dir))
        else:   # the hybrid: the CNN converted at the job's T, then BPTT at its leak
            spiking["from_dir"] = str(cnn_dir)
    args = torch_settings.options(job["kind"], **common, epochs=job["epochs"], threads=1, n_test=job["n_test"],
                                  torch_device=job.get("torch_device", "cpu"),
                                  resume=(run_dir / "model.pt").exists(), **spiking)
    return pipeline.run(args, quantized(pipeline.load_data(dset, job["data_dir"]), job["levels"]))


def run_job(job: dict) -> dict:
    """Train (or reuse) the model of one point, evaluate it, cache and return the result.

    Another process on the same point (a second sweep, or the same point of the other sweep) holds
    its lock: this one waits, then reads the result that process saved. The model's run directory
    is locked the same way, so two points of one model train it once."""
    torch.set_num_threads(1)
    path = Path(job["out"]) / "points" / f"{point_name(job)}.json"
    if path.exists():
        return load_json(path)
    with run_lock(path.parent / point_name(job), wait=True, what="sweep point"):
        if path.exists():   # made while this process waited
            return load_json(path)
        return measure_point(job, path)


def train_locked(job: dict) -> tuple[Path, dict]:
    """(run directory, metrics) of the job's model, trained unless it is there; a process training the
    same model holds the directory's lock and this one waits for it."""
    run_dir = Path(job["out"]) / "runs" / model_name(job)
    with run_lock(run_dir, wait=True, what="training"):
        return run_dir, train(job, run_dir)


def transfer_source(job: dict, run_dir: Path) -> Path | None:
    """The CNN the transfer column is crafted on: the job's source, unless that is this very model (a CNN
    point trained with the source's recipe and seed has its weights, and FGSM on it would be white-box):
    then the sweep's CNN of another seed (0, or 1 for seed 0), an independently trained CNN of the same
    recipe, as the source is for every other point. Decided by the weights, so it holds for any source."""
    if not job["source"]:
        return None
    source = Path(job["source"])
    if job["kind"] != "cnn" or not same_weights(source, run_dir):
        return source
    other, _ = train_locked(with_seed(job, 1 if job["seed"] == 0 else 0))
    return other


def same_weights(run_a, run_b) -> bool:
    """Whether two networks.train runs hold the same architecture and weights."""
    a, b = (load_model(r).state_dict() for r in (run_a, run_b))
    return a.keys() == b.keys() and all(a[k].shape == b[k].shape and torch.equal(a[k], b[k]) for k in a)


def measure_point(job: dict, path: Path) -> dict:
    t0, began = time.perf_counter(), time.time()
    run_dir, metrics = train_locked(job)
    ref = reference_job(job) if job.get("craft_at") else None
    if ref:   # the reference protocol: the model at the reference setting, same seed, trained if missing
        ref_dir, _ = train_locked(ref)
    train_s = time.perf_counter() - t0
    x, y = load_test(job["n_test"], job["data_dir"], dset_of(job))
    device = torch_device(job.get("torch_device", "cpu"))
    source_dir = transfer_source(job, run_dir)
    source = subject("cnn", source_dir, device=device) if source_dir else None
    bpda = job["kind"] == "converted"   # also attacked through the CNN it came from
    subj = subject(job["kind"], run_dir, levels=job["levels"], device=device, bpda=bpda)
    crafter = subject(job["kind"], ref_dir, levels=ref["levels"], device=device, bpda=bpda) if ref else None
    # images crafted on a model are kept: the reference protocol's points read back those of their reference
    res, _ = evaluate(subj, x, y, job["eps"], eot=job["eot"], seed=job["seed"],
                      shared=shared_deltas(x, y, job["eps"], job["seed"], source), suite=job.get("suite"),
                      crafter=crafter, crafted=CraftedImages(Path(job["out"]) / "cache" / "crafted"))
    if ref:
        res["protocol"] = {"name": "reference", "craft_at": job["craft_at"], "crafted_on": str(ref_dir)}
    if source_dir and str(source_dir) != str(job["source"]):
        res["transfer_source"] = {"run": str(source_dir), "why": f"the job's source {job['source']} has this "
                                  "point's own weights (same recipe and seed): its FGSM would be white-box"}
    result = {"name": point_name(job), "job": job, "run": str(run_dir), "eval": res,
              "train": {k: metrics.get(k) for k in ("test_accuracy", "n_test", "n_train", "train_seconds",
                                                     "sec_per_example", "softmax_test_accuracy")},
              "train_seconds": train_s, "seconds": time.perf_counter() - t0,
              # a point is cached and outlives the code that made it: its own record, beside its sweep's
              "provenance": provenance(job, [run_dir, source_dir] + ([ref_dir] if ref else []), started=began)}
    save_json(path, result)
    return result


def with_measurements(jobs: list[dict], key: str | None, args, ref=None) -> list[dict]:
    """One series of a sweep (its jobs differ in ``key`` alone; None: a single point) with the measurements
    the command asks for: ``--suite full`` the attack suite on every point; ``--ensemble ends`` (``all``)
    the surrogate ensemble on the series' two ends and its reference setting (every point), surrogate SNNs
    only; ``--protocols ... reference`` beside each point off the reference setting a second one whose
    attacks are crafted on the model trained at the reference setting (``ref``, by default the jobs' dataset's
    REFS, 256 levels, its input encoding) and scored on this one (Sharmin 2020's released code), with the suite
    but not the ensemble (its crafting model's ensemble check is the reference point's). At the reference setting
    the two protocols are one point. A job without ``key`` has its default (JOB_DEFAULTS, the encoding the
    dataset's). Points between the ends get ``--middle-seeds`` seeds and ``--middle-n-test`` images."""
    dset = dset_of(jobs[0]) if jobs else "mnist"
    defaults = job_defaults(dset)
    if ref is None and key is not None:
        ref = FULL_LEVELS if key == "levels" else defaults[key] if key in defaults else REFS[dset][key]

    def value(j):
        return j.get(key, defaults.get(key))
    values = [value(j) for j in jobs] if key else []
    ends = {min(values), max(values), ref} if values else set()
    out = []
    for j in jobs:
        at_ref = key is None or value(j) == ref
        if key and value(j) not in ends:   # between the ends: fewer test images and seeds (issue 28's cuts)
            j = dict(j, n_test=args.middle_n_test, n_seeds=min(args.middle_seeds, args.seeds))
        ensemble = j["kind"] == "snn" and key and (args.ensemble == "all" or args.ensemble == "ends" and value(j) in ends)
        spec = suite_spec("ensemble" if ensemble else args.suite, j["kind"])
        j = dict(j, suite=spec) if spec else j
        if "swept" in args.protocols or at_ref:
            out.append(j)
        if "reference" in args.protocols and not at_ref:
            # crafted on the reference model, whose own ensemble check is the reference point's: no ensemble here
            full = suite_spec("full", j["kind"]) if spec and spec["ensemble"] else spec
            out.append(dict(j, craft_at={key: ref}, **({"suite": full} if full else {})))
    return out


def run_jobs(jobs: list[dict], n_jobs: int = 1, desc: str = "sweep", progress: bool = True,
             scheduler: str | None = None) -> list[dict]:
    """Every job's result (cached ones read back), ``n_jobs`` at a time on a local cluster (or on the
    dask scheduler at ``scheduler``), seed by seed and longest expected first within a seed; failed jobs
    are reported and left out, the others still finish and are cached (analysis.cluster)."""
    results: dict[int, dict] = {}
    todo = []
    for i, job in enumerate(jobs):
        path = Path(job["out"]) / "points" / f"{point_name(job)}.json"
        if path.exists():
            results[i] = load_json(path)
        else:
            todo.append(i)
    cost = dict(zip(todo, expected_costs([jobs[i] for i in todo])))
    # Seed by seed, longest first within a seed: a sweep interrupted after days still has whole replicates
    # (every point of the first seeds), from which the tables and verdicts can be drawn.
    todo.sort(key=lambda i: (jobs[i]["seed"], -cost[i]))
    expected = forecast([jobs[i] for i in todo], n_jobs)
    # The bar advances by each point's expected work, not by points: the points differ a hundredfold,
    # so only a work-weighted bar gives a meaningful time left.
    where = f"on {scheduler}" if scheduler else f"expected {expected / 60:.0f} min, {n_jobs} at a time"
    bar = tqdm(total=max(sum(cost.values()), 1e-9), desc=f"{desc}: {where}",
               disable=not progress, dynamic_ncols=True,
               bar_format="{desc}: {percentage:3.0f}%|{bar}| [{elapsed}<{remaining}{postfix}]")
    bar.set_postfix_str(f"{len(results)}/{len(jobs)} points")
    count = [len(results)]

    def done(i):
        count[0] += 1
        bar.set_postfix_str(f"{count[0]}/{len(jobs)} points", refresh=False)
        bar.update(cost[i])

    order = [jobs[i] for i in todo]
    finished, failed = run_tasks(run_job, order, keys=[point_name(j) for j in order], n_jobs=n_jobs,
                                 scheduler=scheduler, on_done=lambda k: done(todo[k]))
    results.update({todo[k]: r for k, r in finished.items()})
    bar.close()
    if failed:
        print(f"{len(failed)} point(s) failed: " + ", ".join(n for n, _ in failed))
    return [results[i] for i in sorted(results)]


def failed_points(summary: dict) -> PartialFailure | None:
    """The error a sweep ends with when some of its points did not finish, else None."""
    if not summary["n_failed"]:
        return None
    done = {p["name"] for p in summary["points"]}
    jobs = summary.get("failed", [])
    return PartialFailure(f"{summary['n_failed']} of {summary['n_jobs']} points of {summary['sweep']} failed "
                          f"({', '.join(jobs) or 'see above'}; their tracebacks are above); the other "
                          f"{len(done)} are saved and the table and figure show only those. Run the same command "
                          f"again to compute the failed points alone (finished points are cached)")


def train_job(job: dict) -> dict:
    """Train (or find) one point's model; waits for another process training the same model."""
    torch.set_num_threads(1)
    _, metrics = train_locked(job)
    return {"model": model_name(job), "test_accuracy": metrics.get("test_accuracy")}


def train_models(name: str, jobs: list[dict], args) -> dict:
    """--train-only: every model the points need, trained (longest first), nothing measured."""
    models = list({model_name(j): j for j in jobs + needed_references(jobs)}.values())
    models.sort(key=lambda j: expected_seconds(j, True), reverse=True)
    hours = forecast(models, args.jobs, train_only=True) / 3600
    print(f"{name}: training {len(models)} models, expected {hours:.1f} h at {args.jobs} at a time")
    done, failed = run_tasks(train_job, models, keys=[model_name(j) for j in models], n_jobs=args.jobs,
                             scheduler=args.scheduler)
    for r in sorted(done.values(), key=lambda r: r["model"]):
        print(f"  {r['model']}: clean test accuracy {r['test_accuracy']}")
    if failed:
        raise PartialFailure(f"{len(failed)} of {len(models)} models of {name} failed to train "
                             f"({', '.join(k for k, _ in failed)}); run the same command again to resume them")
    return {"sweep": name, "trained": len(done)}


def sweep(name: str, jobs: list[dict], args, s: dict, extra: dict) -> dict:
    """Run the jobs, write OUT/NAME.json and the figure; the summary. With several eps (``s["eps_list"]``) every
    job is a point at each eps (the same model, measured again) and each eps gets its own summary and figures in
    a folder of its own, OUT/epsEPS/NAME.json (the points and models stay in OUT, shared); the summary returned
    then holds them all ("by_eps", by folder name) and every point."""
    t0 = time.perf_counter()
    eps_list = s.get("eps_list", [s["eps"]])
    jobs = [dict(j, eps=e) for e in eps_list for j in jobs]   # one eps: the jobs as they were
    # --seeds N: every point N times, each its own trained model (seeds SEED..SEED+N-1)
    jobs = [with_seed(j, s["seed"] + k) for k in range(s.get("seeds", 1)) for j in jobs
            if k < j.get("n_seeds", s.get("seeds", 1))]
    unique = list({point_name(j): j for j in jobs}.values())
    note = scale_note(s)
    if getattr(args, "estimate", False):
        return estimate(name, unique, args.jobs, note)
    if getattr(args, "train_only", False):
        return train_models(name, unique, args)
    saved_only = getattr(args, "saved_only", False)
    if saved_only:   # what ran, nothing more: a sweep stopped part-way, reported as far as it got
        paths = [Path(s["out"]) / "points" / f"{point_name(j)}.json" for j in unique]
        points = [load_json(path) for path in paths if path.exists()]
    else:
        points = run_jobs(unique, args.jobs, desc=f"{name.replace('_', ' ')} ({note.split(':')[0]})",
                          progress=not args.no_progress, scheduler=args.scheduler)
    summaries = {}
    for eps in eps_list:
        folder = "" if len(eps_list) == 1 else f"eps{eps:g}"
        summaries[folder] = write_summary(name, Path(s["out"]) / folder, [j for j in unique if j["eps"] == eps],
                                          [p for p in points if p["job"]["eps"] == eps], args, dict(s, eps=eps), extra,
                                          note, saved_only, t0)
    if len(eps_list) == 1:
        summary = summaries[""]
    else:
        parts = list(summaries.values())
        summary = {"sweep": name, "scale": note, "settings": s, **extra, "by_eps": summaries, "points": points,
                   **{k: sum(p[k] for p in parts) for k in ("n_jobs", "n_failed")},
                   "failed": [f for p in parts for f in p["failed"]], "seconds": time.perf_counter() - t0}
    error = failed_points(summary)
    if error:
        raise error
    return summary


def write_summary(name: str, out: Path, jobs: list[dict], points: list[dict], args, s: dict, extra: dict, note: str,
                  saved_only: bool, t0: float) -> dict:
    """``out``/NAME.json and the sweep's figures beside it from the points of one eps; the summary."""
    done = {p["name"] for p in points}
    missing = [point_name(j) for j in jobs if point_name(j) not in done]
    summary = {"sweep": name, "scale": note, "settings": s, **extra, "points": points,
               "n_jobs": len(jobs), "n_failed": 0 if saved_only else len(missing),
               "failed": [] if saved_only else missing, **({"not_run": missing} if saved_only else {}),
               "seconds": time.perf_counter() - t0, "provenance": provenance(vars(args), [s["source"]])}
    save_json(out / f"{name}.json", summary)
    from analysis import sweep_figures
    sweep_figures.SWEEP_FIGURES[name](summary, out / name)
    print(f"{name}: {len(points)}/{len(jobs)} points in {summary['seconds']:.0f} s ({note}); wrote {out / name}.json")
    return summary
