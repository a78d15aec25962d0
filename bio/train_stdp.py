"""Train the Diehl & Cook network with unsupervised STDP, then label and test it.

    python -m bio.train_stdp --dset mnist --n-exc 100 --n-train 1000 --n-test 1000

Training runs chunk by chunk on a compiled cpp_standalone binary, which shows
a quiet example (< 5 exc spikes) again at once, brighter, as the released code
does; after every chunk the weights, theta and the position in the stream of
examples are written atomically to ``checkpoint.npz``, and ``--resume``
continues from there with the same result as an uninterrupted run (with a
larger ``--epochs``, it trains a finished run on). Afterwards the frozen network labels
its neurons on training examples, is scored on the test set, and the run
directory gets ``metrics.json``, ``weights.npz`` and the figures.
"""
from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

import numpy as np
from tqdm.auto import tqdm

import imagesets
from bio import parameters as P
from bio.devices import DEVICES, get_runner
from bio.frozen import COUNTS, DEFAULT_COPIES, EPOCHS, WEIGHTS, chunk_seed, frozen_runner, spike_counts
from bio.network import intensities
from bio.parameters import NetworkConfig
from readout.assignment import assign_labels, predict
from readout.softmax import SoftmaxReadout
from runstore.cli import (DefaultsHelp, Diverged, Parser, UserError, existing_dir, exit_with, from_keywords,
                          nonnegative_float, positive_float, positive_int)
from runstore.files import BadFileError, check_array, check_keys, load_json, load_npz, save_json, save_npz
from runstore.locks import run_lock
from runstore.provenance import provenance

BIO_DATASETS = ("mnist", "fashion")   # 28x28 grayscale: one Poisson input per pixel
CHECKPOINT = "checkpoint.npz"


def build_parser() -> Parser:
    d = NetworkConfig()
    p = Parser(prog="python -m bio.train_stdp", description=__doc__.split("\n\n")[0], formatter_class=DefaultsHelp)
    p.add_argument("--dset", default="mnist", help="mnist or fashion")
    p.add_argument("--n-exc", type=positive_int, default=d.n_exc, help="excitatory (and inhibitory) neurons")
    p.add_argument("--epochs", type=positive_int, default=1)
    p.add_argument("--n-train", type=positive_int, default=None, help="training examples per epoch (default: all)")
    p.add_argument("--n-label", type=positive_int, default=None,
                   help="training examples used to assign labels (default: n-train, at most 10000)")
    p.add_argument("--n-test", type=positive_int, default=None, help="test examples (default: all)")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--device", default="cpp_standalone", choices=DEVICES)
    p.add_argument("--out", default=None, help="run directory (default: runs/stdp-DSET-nN-sSEED)")
    p.add_argument("--resume", action="store_true", help="continue the run in --out from its checkpoint (with more --epochs: train a finished run on)")
    p.add_argument("--data-dir", type=existing_dir, default=None, help="dataset folder (else $SNN_DATA_DIR, else a user cache)")
    p.add_argument("--chunk-size", type=positive_int, default=500, help="examples per compiled run")
    p.add_argument("--tau-exc", type=positive_float, default=d.tau_exc_ms, help="exc membrane time constant (ms)")
    p.add_argument("--dt", type=positive_float, default=d.dt_ms, help="time step (ms)")
    p.add_argument("--present-ms", type=positive_float, default=d.present_ms, help="presentation time (ms)")
    p.add_argument("--rest-ms", type=nonnegative_float, default=d.rest_ms, help="rest between examples (ms)")
    p.add_argument("--max-rate", type=positive_float, default=d.max_rate_hz, help="input rate of a white pixel (Hz)")
    p.add_argument("--stdp", default=d.stdp, choices=P.STDP_RULES,
                   help="pair: the pair rule; triplet: the released code's rule (potentiation x slow post trace)")
    p.add_argument("--integrator", choices=P.INTEGRATORS, default=d.integrator,
                   help="exponential_euler: v exact for each step's conductances (stable); euler: the released "
                        "code's forward Euler, unstable when ~24 inh spikes coincide (collapses 1600 exc)")
    p.add_argument("--exc-block-ms", type=nonnegative_float, default=d.exc_block_ms,
                   help="exc spikes blocked this long after a spike; the released code's 50 ms timer test passes after one "
                        "step under brian_no_units, so only its 5 ms refractory clamp applies (50 is a reading some ports made)")
    p.add_argument("--test-each-epoch", action="store_true",
                   help=f"label and test the network after every epoch, not only the last (OUT/{EPOCHS}/epoch-N.json, "
                        f"its weights and label assignments OUT/{EPOCHS}/weights-epoch-N.npz); the long runs "
                        "(6,400 exc) use it to show where accuracy levels off and to keep the best epoch's network")
    p.add_argument("--no-progress", action="store_true")
    return p


def parse_args(argv=None) -> argparse.Namespace:
    p = build_parser()
    return resolve(p.parse_args(argv), p.error)


def options(**given) -> argparse.Namespace:
    """The settings of a run given as keywords (the option names with underscores), everything else as the
    command line's defaults, checked as :func:`parse_args` checks them (a bad value: runstore.cli.UserError)."""
    return from_keywords(build_parser(), resolve, **given)


def resolve(args: argparse.Namespace, error) -> argparse.Namespace:
    """Check the options (``error(message)`` on a bad one) and add the network's configuration."""
    if args.device == "cuda_standalone":
        # Fail before loading data and training, with what to install or set.
        from bio import cuda
        try:
            cuda.configure()
        except cuda.CudaSetupError as e:
            error(f"--device cuda_standalone: {e}")
    try:
        args.dset = imagesets.canonical_name(args.dset)
    except imagesets.UnknownDatasetError as e:
        error(str(e))
    if args.dset not in BIO_DATASETS:
        error(f"the Diehl & Cook network takes 28x28 grayscale images ({', '.join(BIO_DATASETS)}); "
              f"{args.dset} is for the torch models: python -m networks.train --dset {args.dset}")
    try:
        args.config = NetworkConfig(n_exc=args.n_exc, tau_exc_ms=args.tau_exc, dt_ms=args.dt,
                                    present_ms=args.present_ms, rest_ms=args.rest_ms,
                                    max_rate_hz=args.max_rate, stdp=args.stdp, exc_block_ms=args.exc_block_ms,
                                    integrator=args.integrator)
    except ValueError as e:
        error(str(e))
    if args.out is None:
        args.out = f"runs/stdp-{args.dset}-n{args.n_exc}-s{args.seed}"
    return args


# --- training state ------------------------------------------------------
# Training is one stream of epochs x n_train examples (each epoch in its own
# order); ``position`` counts the examples finished, ``rep`` the tries the
# next one has already had. Retries never leave the stream: the network shows
# a quiet example again at once (bio.schedule), so nothing is re-queued.
CHECKPOINT_FORMAT = 2


def initial_state(config: NetworkConfig, seed: int) -> dict:
    rng = np.random.default_rng([seed, 0x5EED])
    return {
        "format": np.int64(CHECKPOINT_FORMAT),
        "w": P.W_INIT_SCALE * rng.random((config.n_input, config.n_exc)),
        "theta_mV": np.full(config.n_exc, float(P.THETA_INIT / P.mV)),
        "position": np.int64(0),
        "rep": np.int64(0),
        "chunk": np.int64(0),
        "presented": np.int64(0),
        "boosted": np.int64(0),
        "given_up": np.int64(0),
        "train_seconds": np.float64(0.0),
        "exc_spikes": np.int64(0),
    }


def epoch_order(seed: int, epoch: int, n_train: int) -> np.ndarray:
    return np.random.default_rng([seed, epoch]).permutation(n_train)


def stream(seed: int, n_train: int, start: int, stop: int) -> np.ndarray:
    """Training examples at stream positions start..stop-1 (epochs end to end)."""
    out, pos = [], start
    while pos < stop:
        epoch, k = divmod(pos, n_train)
        take = min(stop - pos, n_train - k)
        out.append(epoch_order(seed, epoch, n_train)[k:k + take])
        pos += take
    return np.concatenate(out) if out else np.zeros(0, np.int64)


def train(args, images, state, run_dir: Path, progress=True, until: int | None = None) -> dict:
    """Run STDP chunks until every epoch is done (or the stream reaches position ``until``); checkpoint
    after each chunk.

    A chunk loads the next ``chunk_size`` examples of the stream and runs
    that many slots (fewer at the end: never a padded slot); the network
    decides slot by slot whether to move on, so a chunk finishes at most
    that many examples and the next chunk starts where it stopped.
    """
    cfg, n_train = args.config, len(images)
    size = min(args.chunk_size, args.epochs * n_train)
    t0 = time.perf_counter()
    runner = get_runner(args.device, cfg, size, mode="train")
    build_s = time.perf_counter() - t0
    total = args.epochs * n_train if until is None else until
    x = intensities(images)
    seed = chunk_seed(args.seed, 1)
    bar = tqdm(total=total, initial=int(state["position"]), desc="STDP training", unit="ex",
               disable=not progress, dynamic_ncols=True)
    while int(state["position"]) < total:
        g = int(state["position"])
        m = min(size, total - g)
        ex = stream(args.seed, n_train, g, g + m)
        loaded = np.zeros((size, cfg.n_input))
        loaded[:m] = x[ex]
        keys = np.zeros(size, np.int64)
        keys[:m] = np.arange(g, g + m)       # stream positions: a try's spikes depend on (seed, position, try)
        t1 = time.perf_counter()
        res = runner.run(loaded, state["w"], state["theta_mV"], seed=seed, keys=keys, rep0=int(state["rep"]),
                         n_loaded=m, slots=m)
        elapsed = time.perf_counter() - t1
        if not (np.isfinite(res.w).all() and np.isfinite(res.theta_mV).all()):
            raise Diverged(f"weights or theta became non-finite in training chunk {int(state['chunk']) + 1} "
                           f"(stream position {g}); {run_dir / CHECKPOINT} keeps the last good state")
        sch, spikes = res.schedule, res.exc_presented[:, 0]
        gave_up = sch.final[:, 0] & (spikes < P.MIN_SPIKES)
        state.update(
            w=res.w, theta_mV=res.theta_mV, chunk=state["chunk"] + 1,
            position=np.int64(g + int(sch.done[0])), rep=np.int64(sch.next_rep[0]),
            presented=state["presented"] + m, boosted=state["boosted"] + int((sch.rep[:, 0] > 0).sum()),
            given_up=state["given_up"] + int(gave_up.sum()),
            train_seconds=state["train_seconds"] + elapsed, exc_spikes=state["exc_spikes"] + int(spikes.sum()),
        )
        save_npz(run_dir / CHECKPOINT, **state)
        bar.update(int(sch.done[0]))
        bar.set_postfix(ex_per_s=f"{m / elapsed:.0f}", exc_spikes_per_ex=f"{spikes.mean():.1f}",
                        retried=f"{(sch.rep[:, 0] > 0).mean():.0%}")
    bar.close()
    return {"build_seconds": build_s}


def evaluate(args, weights, theta_mV, x_label, y_label, x_test, y_test, progress=True):
    kw = dict(device=args.device, chunk_size=args.chunk_size, progress=progress)
    t_build = time.perf_counter()
    # Build (or open the cached build of) the frozen network first, so that the figure per example
    # is simulation alone, like training's; the build is reported apart.
    frozen_runner(args.config, len(x_label), args.chunk_size, DEFAULT_COPIES.get(args.device, 1), args.device)
    t0 = time.perf_counter()
    lab = spike_counts(x_label, weights, theta_mV, args.config, seed=chunk_seed(args.seed, 2), desc="labelling", **kw)
    t1 = time.perf_counter()
    tst = spike_counts(x_test, weights, theta_mV, args.config, seed=chunk_seed(args.seed, 3), desc="testing", **kw)
    t2 = time.perf_counter()
    assignments = assign_labels(lab.exc, y_label)
    pred_label = predict(lab.exc, assignments)
    pred_test = predict(tst.exc, assignments)
    softmax = SoftmaxReadout.fit(lab.exc, y_label, seed=args.seed)
    return {
        "assignments": assignments, "label_counts": lab.exc, "test_counts": tst.exc, "test_pred": pred_test,
        "softmax": softmax,
        "label_accuracy": float((pred_label == y_label).mean()),
        "test_accuracy": float((pred_test == y_test).mean()),
        "softmax_test_accuracy": float((softmax.predict(tst.exc) == y_test).mean()),
        "frozen_sec_per_example": (t2 - t0) / (len(x_label) + len(x_test)),
        "label_seconds": t1 - t0, "test_seconds": t2 - t1, "frozen_build_seconds": t0 - t_build,
    }


def load_checkpoint(path: Path, config: NetworkConfig) -> dict:
    """A training checkpoint, refused (naming the file and the problem) unless every array has the
    run's shape and is finite."""
    state = load_npz(path)
    if int(np.asarray(state.get("format", 1)).ravel()[0]) != CHECKPOINT_FORMAT:
        raise BadFileError(path, "was written by an older version, which re-queued quiet examples at the end of "
                                 "the epoch (a different training schedule); it cannot be continued: start a new "
                                 "run with --out NEWDIR")
    fresh = initial_state(config, 0)
    check_keys(path, state, fresh)
    for name, like in fresh.items():
        check_array(path, name, state[name], np.shape(like), "f" if np.asarray(like).dtype.kind == "f" else "i")
    return state


def prepare_run_dir(args) -> tuple[Path, dict]:
    run_dir = Path(args.out)
    cfg_path = run_dir / "config.json"
    record = {
        "dset": args.dset, "epochs": args.epochs, "n_train": args.n_train, "n_label": args.n_label,
        "n_test": args.n_test, "seed": args.seed, "device": args.device, "chunk_size": args.chunk_size,
        "network": args.config.to_dict(),
    }
    if args.resume:
        if not (run_dir / CHECKPOINT).exists():
            raise UserError(f"--resume given but {run_dir / CHECKPOINT} does not exist; "
                             f"start a new run without --resume")
        old = load_json(cfg_path)
        # More epochs continue the same stream (each epoch's order depends on
        # the seed and its number only): a finished run can be trained on.
        mismatched = [k for k in record if k not in ("device", "epochs") and old.get(k) != record[k]]
        if record["epochs"] < old.get("epochs", 1):
            mismatched.append("epochs")
        if mismatched:
            raise UserError(f"--resume with different settings than the run in {run_dir}: "
                             + ", ".join(f"{k} was {old.get(k)!r}, now {record[k]!r}" for k in mismatched))
        if record["epochs"] != old.get("epochs"):
            save_json(cfg_path, {**old, "epochs": record["epochs"]})
        return run_dir, load_checkpoint(run_dir / CHECKPOINT, args.config)
    if (run_dir / CHECKPOINT).exists() or (run_dir / "metrics.json").exists():
        raise UserError(f"{run_dir} already holds a run; pass --resume to continue it "
                         f"or --out NEWDIR to start another")
    run_dir.mkdir(parents=True, exist_ok=True)
    save_json(cfg_path, record)
    return run_dir, initial_state(args.config, args.seed)


def load_data(dset: str, data_dir=None) -> tuple:
    """(x_train, y_train, x_test, y_test) of ``dset``: every image, uint8 numpy arrays."""
    x_train, y_train = imagesets.load(dset, "train", data_dir=data_dir)
    x_test, y_test = imagesets.load(dset, "test", data_dir=data_dir)
    return x_train, y_train, x_test, y_test


def main(argv=None):
    args = parse_args(argv)
    return run(args, load_data(args.dset, args.data_dir))


def run(args, data: tuple) -> dict:
    """Train, label and test the run of ``args`` (:func:`parse_args` or :func:`options`) on ``data``
    (:func:`load_data`'s arrays, or changed ones: the sweeps' pre-quantized images), holding the run
    directory's lock throughout."""
    x_train, y_train, x_test, y_test = data
    args.n_train = min(args.n_train or len(x_train), len(x_train))
    args.n_test = min(args.n_test or len(x_test), len(x_test))
    args.n_label = min(args.n_label or min(args.n_train, 10000), len(x_train))
    with run_lock(args.out):   # one process per run directory, for the whole run
        return _run(args, x_train, y_train, x_test, y_test)


def _run(args, x_train, y_train, x_test, y_test) -> dict:
    """Train to the last epoch, scoring it (with --test-each-epoch every epoch on the way, each kept in
    EPOCHS/epoch-N.json with its weights; epochs scored before an interruption are not scored again)."""
    progress = not args.no_progress
    run_dir, state = prepare_run_dir(args)
    for epoch in range(1, args.epochs + 1) if args.test_each_epoch else [args.epochs]:
        scored = run_dir / EPOCHS / f"epoch-{epoch}.json"
        # scored already, or trained past (a run resumed with the flag): that epoch's weights are gone
        if epoch < args.epochs and (scored.exists() or int(state["position"]) > epoch * args.n_train):
            continue
        timing = train(args, x_train[:args.n_train], state, run_dir, progress, until=epoch * args.n_train)
        metrics = score(args, state, epoch, timing, run_dir, (x_train, y_train, x_test, y_test), progress)
        if args.test_each_epoch:
            save_json(scored, metrics)
    return metrics


def score(args, state: dict, epoch: int, timing: dict, run_dir: Path, data: tuple, progress: bool) -> dict:
    """Freeze the network as trained for ``epoch`` epochs, label and test it: weights, counts, readout,
    metrics.json and the figures in ``run_dir``; the metrics."""
    x_train, y_train, x_test, y_test = data
    n_train, n_test, n_label = args.n_train, args.n_test, args.n_label
    w, theta = state["w"], state["theta_mV"]
    save_npz(run_dir / WEIGHTS, w=w, theta_mV=theta)

    ev = evaluate(args, w, theta, x_train[:n_label], y_train[:n_label], x_test[:n_test], y_test[:n_test], progress)
    if args.test_each_epoch:
        # accuracy wanders between epochs (6,400 exc: 92.8 % then 91.7 %), so the best one must stay usable
        save_npz(run_dir / EPOCHS / f"weights-epoch-{epoch}.npz", w=w, theta_mV=theta, assignments=ev["assignments"])
    save_npz(run_dir / COUNTS, assignments=ev["assignments"], label_counts=ev["label_counts"],
             label_targets=y_train[:n_label], test_counts=ev["test_counts"], test_targets=y_test[:n_test],
             test_pred=ev["test_pred"])
    ev["softmax"].save(run_dir / "readout_softmax.npz")
    metrics = {
        "test_accuracy": ev["test_accuracy"], "n_test": n_test,
        "softmax_test_accuracy": ev["softmax_test_accuracy"],
        "label_accuracy": ev["label_accuracy"], "n_label": n_label,
        "n_train": n_train, "epochs": epoch, "n_exc": args.config.n_exc,
        "presentations": int(state["presented"]), "boosted_presentations": int(state["boosted"]),
        "given_up": int(state["given_up"]),
        # Per training example finished and per presentation (a retried example is presented more than once).
        "train_seconds": float(state["train_seconds"]),
        "sec_per_example": float(state["train_seconds"]) / max(n_train * epoch, 1),
        "sec_per_presentation": float(state["train_seconds"]) / max(int(state["presented"]), 1),
        "exc_spikes_per_presentation": int(state["exc_spikes"]) / max(int(state["presented"]), 1),
        "frozen_sec_per_example": ev["frozen_sec_per_example"],
        "build_seconds": timing["build_seconds"], "frozen_build_seconds": ev["frozen_build_seconds"],
        "device": args.device,
        "neurons_unassigned": int((ev["assignments"] < 0).sum()),
        "provenance": provenance(args),
    }
    save_json(run_dir / "metrics.json", metrics)

    from bio import figures
    names = imagesets.class_names(args.dset)
    figures.receptive_fields(w, run_dir / "receptive_fields",
                             title=f"STDP weights after {n_train} x {epoch} examples")
    figures.assignment_histogram(ev["assignments"], run_dir / "assignments", class_names=names)
    print(json.dumps({k: metrics[k] for k in ("epochs", "test_accuracy", "softmax_test_accuracy", "n_test", "n_train",
                                              "sec_per_example", "sec_per_presentation", "frozen_sec_per_example")}))
    print(f"run directory: {run_dir}")
    return metrics

if __name__ == "__main__":
    exit_with(main, user_errors=(imagesets.DatasetError,))
