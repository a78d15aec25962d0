"""How faithfully the torch twin reproduces the Brian2 network, and how fast it is.

    python -m benchmarks.twin_agreement --run DIR [--n-test 1000] [--out results/twin_agreement]

Runs the trained, frozen Brian2 network of run DIR on the first N MNIST test
images with its input spikes recorded (one presentation per example: the
< 5 spike repeat is off), then replays those input spikes into the twin. The
frozen Brian2 network starts every example from rest, and so does the twin.

Reports the share of identical (example, neuron) exc spike counts, the share of
examples whose label-assignment prediction (the run's ``counts.npz``
assignments) agrees, and the twin's forward+backward examples/s on CPU.

Then both models are scored as an attack sees them, each with its own Poisson
draws and the Diehl & Cook rule (an example with < 5 exc spikes is shown
again at once, 32 Hz brighter): Brian2's clean accuracy and the twin's on the
same images should agree within about a point (their draws differ, so the
difference is sampling noise plus any modelling error).
Writes ``agreement.json`` and ``agreement.png`` into ``--out``.
"""
from __future__ import annotations

import json
import os
import platform
import time
from pathlib import Path

import numpy as np
import torch

import imagesets
from analysis.defaults import RESULTS
from bio.frozen import load_assignments, load_trained, spike_counts, weights_file
from networks.devices import add_torch_device_option, torch_device
from readout.assignment_torch import class_scores
from networks.twin import DiehlCookTwin, spike_trains
from readout.assignment import predict
from runstore.cli import Parser, existing_dir, exit_with, positive_float, positive_int
from runstore.files import load_json
from runstore.provenance import provenance


def compare(brian, twin_exc, twin_inh, assignments, labels) -> dict:
    same = twin_exc == brian.exc
    pred_b, pred_t = predict(brian.exc, assignments), predict(twin_exc, assignments)
    return {
        "identical_exc_counts": float(same.mean()),
        "identical_inh_counts": float((twin_inh == brian.inh).mean()),
        "examples_all_exc_identical": float(same.all(axis=1).mean()),
        "mean_abs_count_diff": float(np.abs(twin_exc - brian.exc).mean()),
        "prediction_agreement": float((pred_b == pred_t).mean()),
        "accuracy_brian2": float((pred_b == labels).mean()),
        "accuracy_twin": float((pred_t == labels).mean()),
    }


def replay(twin, brian, n_input, batch) -> tuple[np.ndarray, np.ndarray, float]:
    """Twin exc and inh counts for Brian2's recorded input, and examples/s."""
    exc, inh = np.zeros_like(brian.exc), np.zeros_like(brian.inh)
    t0 = time.perf_counter()
    with torch.no_grad():
        for s in range(0, len(exc), batch):
            res = twin.simulate(spike_trains(brian.input_spikes[s:s + batch], n_input, twin.present_steps,
                                             device=twin.w.device))
            exc[s:s + batch], inh[s:s + batch] = res.exc.cpu().numpy(), res.inh.cpu().numpy()
    return exc, inh, len(exc) / (time.perf_counter() - t0)


def clean_with_retry(twin, w, theta_mV, x, y, assignments, cfg, seed, device, chunk_size, batch) -> dict:
    """Clean accuracy of Brian2 and of the twin, each with its own draws and the retry rule."""
    t0 = time.perf_counter()
    brian = spike_counts(x, w, theta_mV, cfg, seed=seed + 1, device=device, chunk_size=chunk_size,
                         repeat_low=True, desc="Brian2 with retry")
    brian_s = time.perf_counter() - t0
    gen = torch.Generator(device=twin.w.device).manual_seed(seed)
    exc = []
    t0 = time.perf_counter()
    with torch.no_grad():
        for s in range(0, len(x), batch):
            xb = torch.tensor(x[s:s + batch].reshape(len(x[s:s + batch]), -1) / 255.0, dtype=twin.w.dtype,
                              device=twin.w.device)
            exc.append(twin(xb, generator=gen).cpu().numpy())
    twin_s = time.perf_counter() - t0
    exc = np.concatenate(exc)
    acc_b = float((predict(brian.exc, assignments) == y).mean())
    acc_t = float((predict(exc, assignments) == y).mean())
    return {"accuracy_brian2": acc_b, "accuracy_twin": acc_t, "difference_points": 100 * (acc_t - acc_b),
            "brian2_retried_share": float((brian.boost_hz > 0).mean()), "brian2_s": brian_s, "twin_s": twin_s}


def grad_speed(trained, x, y, assignments, batch, reps, dtype, rest, surrogate, slope, device) -> dict:
    """Examples/s of forward + backward to the input, Poisson sampling inside; ``trained``: (w, theta_mV, config)."""
    twin = DiehlCookTwin(*trained, surrogate=surrogate, slope=slope, rest=rest, dtype=dtype).to(device)
    xb = torch.tensor(x[:batch].reshape(batch, -1) / 255.0, dtype=dtype, device=device)
    yb = torch.tensor(y[:batch], device=device)
    gen = torch.Generator(device=device).manual_seed(0)
    times, grads = [], []
    for _ in range(reps):
        xr = xb.clone().requires_grad_()
        t0 = time.perf_counter()
        loss = torch.nn.functional.cross_entropy(class_scores(twin(xr, generator=gen), assignments), yb)
        (g,) = torch.autograd.grad(loss, xr)
        if device.type == "cuda":
            torch.cuda.synchronize()
        times.append(time.perf_counter() - t0)
        grads.append(g)
    g = torch.stack(grads)
    return {"batch": batch, "dtype": str(dtype).replace("torch.", ""), "rest": rest, "device": str(device),
            "examples_per_s": batch / float(np.median(times)),
            "grad_finite": bool(torch.isfinite(g).all()),
            "examples_with_nonzero_grad": float((g != 0).flatten(2).any(-1).float().mean()),
            "grad_abs_max": float(g.abs().max())}


def figure(brian, results, summary, path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(1, 3, figsize=(13, 3.8))
    ax = axes[0]
    b, t = brian.exc.ravel(), results[0].ravel()
    top = int(max(b.max(), t.max())) + 1
    h, _, _ = np.histogram2d(b, t, bins=top, range=[[-0.5, top - 0.5]] * 2)
    ax.imshow(np.log10(h.T + 1), origin="lower", cmap="viridis", extent=[-0.5, top - 0.5, -0.5, top - 0.5])
    ax.plot([0, top - 1], [0, top - 1], "w--", lw=0.8)
    ax.set(xlabel="Brian2 exc count", ylabel="twin exc count", title="counts, log10(1 + pairs)")
    ax.grid(False)
    ax = axes[1]
    d = (results[0] - brian.exc).ravel()
    lim = max(1, int(np.abs(d).max()))
    ax.hist(d, bins=np.arange(-lim - 0.5, lim + 1.5), color="C0", log=True)
    ax.set(xlabel="twin - Brian2 exc count", ylabel="(example, neuron) pairs", title="count differences")
    ax = axes[2]
    keys = ["identical_exc_counts", "examples_all_exc_identical", "prediction_agreement"]
    vals = [summary["agreement"][key] for key in keys]
    ax.bar(np.arange(3), vals, 0.6, color="C0")
    for xi, v in enumerate(vals):
        ax.text(xi, v + 0.005, f"{100 * v:.1f}", ha="center", fontsize=8)
    ax.set_xticks(np.arange(3), ["(ex, neuron)\ncounts", "examples\nall counts", "predicted\nclass"])
    ax.set(ylim=(min(0.8, ax.get_ylim()[0]), 1.04), ylabel="share identical", title="twin vs Brian2")
    fig.suptitle(f"{summary['run']}: {summary['n_test']} MNIST test images", fontsize=10)
    fig.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=130)
    plt.close(fig)


def main(argv=None):
    p = Parser(description=__doc__.split("\n\n")[0])
    p.add_argument("--run", required=True, help="trained run directory (config.json, weights.npz, counts.npz)")
    p.add_argument("--epoch", type=positive_int, default=None,
                   help="the weights kept after this epoch (RUN/epochs/weights-epoch-N.npz), not the run's last")
    p.add_argument("--n-test", type=positive_int, default=1000)
    p.add_argument("--out", default=str(RESULTS / "twin_agreement"))
    p.add_argument("--seed", type=int, default=0, help="Brian2 Poisson sampler seed")
    p.add_argument("--chunk-size", type=int, default=500, help="Brian2 examples per compiled run")
    p.add_argument("--batch", type=int, default=100, help="twin batch for the replay")
    p.add_argument("--speed-batch", type=int, default=32)
    p.add_argument("--speed-reps", type=int, default=3)
    p.add_argument("--surrogate", default="fast_sigmoid")
    p.add_argument("--slope", type=positive_float, default=5.0)
    p.add_argument("--threads", type=positive_int, default=1, help="torch CPU threads (1 is fastest on shared 2-vCPU machines)")
    p.add_argument("--device", default="cpp_standalone", help="Brian2 device (cpp_standalone, cuda_standalone)")
    add_torch_device_option(p)
    p.add_argument("--data-dir", type=existing_dir, default=None)
    args = p.parse_args(argv)
    device = torch_device(args.torch_device)
    torch.set_num_threads(args.threads)
    run, out = Path(args.run), Path(args.out)
    dset = load_json(run / "config.json").get("dset", "mnist")
    images, labels = imagesets.load(dset, "test", data_dir=args.data_dir)
    n = min(args.n_test, len(images))
    x, y = images[:n], labels[:n]
    cfg, w, theta_mV = load_trained(run, args.epoch)
    twin = DiehlCookTwin(w, theta_mV, cfg, surrogate=args.surrogate, slope=args.slope).to(device)
    assignments = load_assignments(run, args.epoch)

    t0 = time.perf_counter()
    brian = spike_counts(x, w, theta_mV, cfg, seed=args.seed, device=args.device,
                         chunk_size=args.chunk_size, repeat_low=False, record_input=True, desc="Brian2")
    brian_s = time.perf_counter() - t0
    exc, inh, replay_rate = replay(twin, brian, cfg.n_input, args.batch)
    results = (exc, inh)
    summary = {"run": str(run), "epoch": args.epoch, "n_test": n, "seed": args.seed,
               "chunk_size": min(args.chunk_size, n), "network": cfg.to_dict(), "brian2_s": brian_s,
               "brian2_exc_spikes_per_example": float(brian.exc.sum(1).mean())}
    summary["agreement"] = compare(brian, exc, inh, assignments, y)
    summary["replay_examples_per_s"] = replay_rate
    summary["clean_with_retry"] = clean_with_retry(twin, w, theta_mV, x, y, assignments, cfg, args.seed, args.device,
                                                   args.chunk_size, args.batch)
    summary["grad_speed"] = [
        grad_speed((w, theta_mV, cfg), x, y, assignments, min(args.speed_batch, n), args.speed_reps, dtype, rest,
                   args.surrogate, args.slope, device)
        for dtype, rest in ((torch.float64, True), (torch.float64, False), (torch.float32, False))]
    summary["machine"] = {"cpu": platform.processor() or platform.machine(), "cores": os.cpu_count(),
                          "torch_threads": args.threads, "torch": torch.__version__}
    summary["provenance"] = provenance(args, [run, weights_file(run, args.epoch)])
    out.mkdir(parents=True, exist_ok=True)
    (out / "agreement.json").write_text(json.dumps(summary, indent=2) + "\n")
    figure(brian, results, summary, out / "agreement.png")

    print(f"\n{n} examples of {run}, Brian2 {brian_s:.1f} s")
    print("| identical (ex, neuron) exc counts | examples all identical | same prediction | "
          "acc Brian2 | acc twin |\n|---|---|---|---|---|")
    r = summary["agreement"]
    print(f"| {100 * r['identical_exc_counts']:.2f}% | {100 * r['examples_all_exc_identical']:.1f}% | "
          f"{100 * r['prediction_agreement']:.1f}% | {100 * r['accuracy_brian2']:.1f}% | "
          f"{100 * r['accuracy_twin']:.1f}% |")
    c = summary["clean_with_retry"]
    print(f"with the retry rule, own Poisson draws: Brian2 {100 * c['accuracy_brian2']:.1f}%, "
          f"twin {100 * c['accuracy_twin']:.1f}% ({c['difference_points']:+.1f} points; "
          f"{100 * c['brian2_retried_share']:.0f}% of images retried in Brian2)")
    for g in summary["grad_speed"]:
        print(f"twin forward+backward on {g['device']}, {g['dtype']}, {'slot' if g['rest'] else 'presentation only'}, "
              f"batch {g['batch']}: {g['examples_per_s']:.1f} examples/s (grad finite: {g['grad_finite']})")
    print(f"wrote {out / 'agreement.json'} and {out / 'agreement.png'}")
    return summary


if __name__ == "__main__":
    exit_with(main, user_errors=(imagesets.DatasetError,))
