"""Train a torch baseline (CNN, surrogate SNN, converted SNN, TGO SNN) and test it.

    python -m networks.train --net cnn --dset mnist --epochs 2 --out /work/runs/baselines/cnn-mnist
    python -m networks.train --net snn --dset mnist -t 8 --leak 0.99 --epochs 1
    python -m networks.train --net converted --dset mnist --from /work/runs/baselines/cnn-mnist -t 100
    python -m networks.train --net snn --dset cifar10 --from RUNS/cnn-cifar10   # hybrid: converted, then BPTT
    python -m networks.train --net stdp --dset mnist -t 8    # conv STDP first layer (no labels), BPTT above
    python -m networks.train --net stdp --dset cifar10       # conv STDP layer 0, CNN above, converted, then BPTT
    python -m networks.train --net stdp --dset mnist --from runs/stdp-mnist-n400-s0   # a Brian2 layer instead

By default Adam with a cosine learning rate over all epochs; random crops and flips for
CIFAR-10. Weight layers have biases unless ``--no-bias`` (see default_bias:
bias-free ReLU nets mask the gradient on MNIST's zero background). For CIFAR-10 the defaults are
a recipe (``--recipe``, RECIPES): ``cpu`` (the default) trains the batch-norm net ``cifar``
(networks.cnn) with SGD-Nesterov, a linear warm-up and decay, label smoothing and bf16 autocast,
converts it at percentile 99.9 with potentials starting at half threshold, and fine-tunes the
converted net by BPTT at few time steps (hybrid); ``gpu`` is the VGG-9 configuration (CNN: 100
epochs, Adam, batch 128, dropout 0.2; SNN/TGO from the converted CNN: 30 epochs, lr 1e-4, T 10),
which this project has not run. Options given on the command line override the recipe. After
every epoch, and every CHECKPOINT_SECONDS within one, ``model.pt`` is written atomically, and
``--resume`` continues from the last checkpoint exactly as an uninterrupted run would (each
epoch's order and random draws come from the seed and the epoch number; a checkpoint within an
epoch keeps its step and the torch random state); the test pass keeps its predictions so far in
``test_progress.pt`` and resumes the same way. ``converted`` trains no weights: it converts the
CNN of ``--from`` (or trains one first, in OUT/cnn). ``snn`` and ``tgo`` with
``--from`` start BPTT from the converted CNN's weights (hybrid training, as
Sharmin et al. 2020 after Rathi et al. 2020): a deep SNN such as VGG-9 is
silent beyond its first layers at random initialisation and cannot learn from
there. ``stdp`` (seed 000's SNN + STDP, networks.stdp_net) trains surrogate-gradient layers above a
frozen first layer learned without labels: the first conv layer of ``--arch``, its filters learned by
networks.conv_stdp on ``--stdp-images`` training images, or with ``--from`` the input weights of a
bio.train_stdp run under ``--arch`` (default f256) fc layers. ``stdp --hybrid`` (the CIFAR-10 recipes)
trains the way the hybrid SNN is trained, in stages that each checkpoint in OUT: a ``stdp-cnn`` run in
OUT/cnn learns the filters (OUT/cnn/stdp_filters.npz) and trains the CNN above them with the recipe's
CNN settings (``--cnn-epochs``); it is converted like the hybrid's CNN, layer 0 only scaled; BPTT then
trains the layers above layer 0. See networks.registry for the run directory's files.
"""
from __future__ import annotations

import argparse
import json
import math
import time
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F
from tqdm.auto import tqdm

import imagesets
from networks.cnn import DEFAULT_ARCH, IN_SHAPE, as_images, without_batchnorm
from networks.conv_stdp import convergence, learn_filters
from networks.converted import convert
from networks.devices import add_torch_device_option, torch_device
from networks.registry import (CONFIG, METRICS, MODEL, NETS, build_model, load_checkpoint, load_model,
                               save_checkpoint)
from networks.snn import ENCODINGS, READOUTS, RESETS
from networks.stdp_net import load_stdp_run, stdp_arch
from networks.surrogate import SURROGATES
from networks.tgo import GUARD, MARGIN, NOISE
from runstore.cli import (Parser, exit_with, existing_dir, fraction, nonnegative_float, percentile, positive_float,
                          positive_int, unit_interval)
from runstore.files import load_json, load_npz, save_json, save_npz
from runstore.locks import run_lock

SPIKING = ("snn", "tgo", "converted", "stdp")
TRAINED_SPIKING = ("snn", "tgo", "stdp")    # spiking nets whose weights BPTT trains
STDP_NETS = ("stdp", "stdp-cnn")            # nets whose layer 0 is learned by STDP (networks.stdp_net)
CONVERTIBLE = ("cnn", "stdp-cnn")           # nets whose runs networks.converted converts
# Per-net defaults of the options that differ between nets (None on the command line).
NET_DEFAULTS = {
    "cnn": dict(epochs=2, T=None, leak=None),
    "snn": dict(epochs=1, T=10, leak=0.99),
    "tgo": dict(epochs=1, T=10, leak=0.99),
    "converted": dict(epochs=2, T=100, leak=1.0),   # epochs: of the CNN trained first, if any
    "stdp": dict(epochs=3, T=10, leak=0.99),
    "stdp-cnn": dict(epochs=2, T=10, leak=None),   # T: steps of the conv STDP presentations
}
STDP_HIDDEN = "f256"   # stdp --from: the trained layers above the Diehl & Cook layer (--arch)
STDP_FILTERS = "stdp_filters.npz"
STDP_CALIB_IMAGES = 1000   # stdp: training images the STDP layer's currents are standardised on
STDP_IMAGES = 3000         # stdp without --from: images the conv filters learn on (MNIST: converged by 2,000)
HYBRID_CNN = "cnn"         # stdp --hybrid: the sub-directory of its CNN stage (a stdp-cnn run)
# Per-dataset recipes (--recipe), per net; what a recipe leaves out comes from NET_DEFAULTS and
# TRAIN_DEFAULTS, and any option given on the command line wins.
# cpu: the batch-norm net "cifar" (networks.cnn), trained fast on a CPU (README: times and accuracies).
#      The SNN and TGO nets are hybrid: they start from the converted CNN of --from. The stdp net is hybrid the
#      same way (--hybrid): its CNN stage (stdp-cnn) trains as the CNN, with conv STDP's frozen layer 0.
# gpu: VGG-9, meant to reach the targets (CNN >= 85 %, SNN >= 75 %) on a GPU. NOT run on this project's
#      2-core CPU machines (an epoch of VGG-9 takes 20-40 min there): see the README. The SNN is meant to
#      start from the converted CNN (--from), as the seed's backprop SNN does; seed 000 uses T = 10.
CPU_CNN = dict(arch="cifar", epochs=20, batch_size=256, optimizer="sgd", lr=0.2, weight_decay=5e-4,
               schedule="onecycle", warmup=0.2, label_smoothing=0.2, precision="bf16")
CPU_CONVERSION = dict(T=64, leak=1.0, v_init=0.5, encoding="direct", percentile=99.9)
CPU_HYBRID = dict(CPU_CONVERSION, arch="cifar", epochs=1, batch_size=64, lr=1e-4, T=8, percentile=99.0,
                  precision="bf16")
GPU_CNN = dict(arch="vgg9", epochs=100, batch_size=128, lr=1e-3, dropout=0.2)
GPU_HYBRID = dict(arch="vgg9", epochs=30, batch_size=64, lr=1e-4, T=10, leak=0.99)
RECIPES = {
    "cifar10": {
        "cpu": {"cnn": CPU_CNN, "converted": {**CPU_CNN, **CPU_CONVERSION},   # CNN settings: of the CNN trained first
                "snn": CPU_HYBRID, "tgo": CPU_HYBRID,
                "stdp-cnn": CPU_CNN, "stdp": {**CPU_HYBRID, "hybrid": True}},
        "gpu": {"cnn": GPU_CNN, "converted": GPU_CNN, "snn": GPU_HYBRID, "tgo": GPU_HYBRID,
                "stdp-cnn": GPU_CNN, "stdp": {**GPU_HYBRID, "hybrid": True}},
    },
}
DEFAULT_RECIPE = "cpu"
TRAIN_DEFAULTS = dict(arch=None, batch_size=64, lr=1e-3, dropout=0.0, optimizer="adam", weight_decay=0.0,
                      schedule="cosine", warmup=0.2, label_smoothing=0.0, precision="fp32", v_init=0.0, n_train=None,
                      encoding="poisson", percentile=99.9, hybrid=False)
# What runs made before an option existed did (their config.json lacks it): --resume compares with these.
BEFORE_OPTION = dict(optimizer="adam", schedule="cosine", warmup=0.2, label_smoothing=0.0, precision="fp32",
                     v_init=0.0, momentum=0.9, hybrid=False)
BEFORE_MODEL = dict(v_init=0.0)   # the same for the model's constructor arguments
DATA_INIT_IMAGES = 32   # training images --init data calibrates on
CHECKPOINT_SECONDS = 300   # within an epoch, model.pt is also written when this long has passed since the last time
TEST_PROGRESS = "test_progress.pt"   # the test pass's results so far (long for spiking nets), until metrics.json
# Settings that may change on --resume (more epochs continue the run).
RESUMABLE = {"epochs", "torch_device", "threads", "no_progress", "resume", "data_dir", "out", "recipe"}


def parse_args(argv=None):
    p = Parser(prog="python -m networks.train", description=__doc__.split("\n\n")[0],
               formatter_class=argparse.ArgumentDefaultsHelpFormatter)
    p.add_argument("--net", required=True, choices=list(NETS))
    p.add_argument("--dset", default="mnist", help="mnist, fashion or cifar10")
    p.add_argument("--arch", default=None, help="architecture name or spec (networks.cnn; default by dataset "
                   "and recipe: mnist 'mnist', cifar10 'cifar' (cpu) or 'vgg9' (gpu))")
    p.add_argument("--recipe", default=None, choices=["cpu", "gpu"],
                   help="cifar10: the defaults of every option below (RECIPES; default cpu); other datasets have none")
    p.add_argument("--bias", action=argparse.BooleanOptionalAction, default=None,
                   help="weight layers with biases (default: on; --resume and --from keep their run's choice; "
                        "--no-bias for the bias-free nets of earlier runs)")
    p.add_argument("--dropout", type=fraction, default=None, help="dropout on the hidden fc layers (default 0; cifar10 cnn 0.2)")
    g = p.add_argument_group("spiking nets (snn, tgo, converted)")
    g.add_argument("-t", "--timesteps", type=positive_int, default=None,
                   help="time steps T (default: 10; converted 100; stdp, stdp-cnn: also those of each conv STDP "
                        "presentation)")
    g.add_argument("--leak", type=unit_interval, default=None, help="membrane leak per step, 1 = IF (default: 0.99; converted 1)")
    g.add_argument("--threshold", type=positive_float, default=1.0, help="firing threshold (snn, tgo)")
    g.add_argument("--encoding", default=None, choices=ENCODINGS,
                   help="input: Poisson spikes, or the image as a constant current (default poisson; "
                        "cifar10 cpu recipe: direct)")
    g.add_argument("--surrogate", default="arctan", choices=list(SURROGATES))
    g.add_argument("--slope", type=positive_float, default=2.0, help="surrogate slope, per threshold")
    g.add_argument("--readout", default="mem", choices=READOUTS, help="logits: output membrane or spike counts")
    g.add_argument("--reset", default="subtract", choices=RESETS)
    g.add_argument("--noise", type=nonnegative_float, default=None,
                   help=f"threshold noise std in thresholds (noisy neurons; default 0, tgo {NOISE})")
    g.add_argument("--guard", type=nonnegative_float, default=GUARD, help="tgo: weight of the threshold-guarding loss")
    g.add_argument("--margin", type=nonnegative_float, default=MARGIN, help="tgo: guarded band around threshold, in thresholds")
    g.add_argument("--init", choices=("kaiming", "data"), default=None,
                   help="snn, tgo: weights at random (kaiming) or rescaled on training images so every layer "
                        "fires (data; needed by deep nets such as vgg9; default for cifar10)")
    g.add_argument("--from", dest="from_dir", default=None,
                   help="a trained CNN's run directory: converted converts it, snn and tgo start from its converted "
                   "weights; stdp: the bio.train_stdp run whose input weights become the frozen first layer")
    g.add_argument("--stdp-images", type=positive_int, default=STDP_IMAGES,
                   help="stdp without --from, stdp-cnn: training images its conv filters learn on (no labels)")
    g.add_argument("--hybrid", action=argparse.BooleanOptionalAction, default=None,
                   help="stdp: train a CNN above the conv STDP layer (a stdp-cnn run in OUT/cnn, with the recipe's "
                        "CNN settings), convert it, then BPTT, as the hybrid snn (default: on for cifar10, off "
                        "otherwise: BPTT from random weights above the STDP layer)")
    g.add_argument("--cnn-epochs", type=positive_int, default=None,
                   help="stdp --hybrid: epochs of its CNN stage (default: the recipe's CNN epochs, cpu 20)")
    g.add_argument("--v-init", type=float, default=None,
                   help="initial membrane potential in thresholds (default 0; cifar10 cpu recipe: converted, snn 0.5)")
    g.add_argument("--percentile", type=percentile, default=None,
                   help="converted, and snn/tgo --from: activation percentile per layer that sets its scale (100 = max; "
                        "default 99.9; cifar10 cpu snn, tgo 99)")
    g.add_argument("--n-calib", type=positive_int, default=2000, help="converted: training images for threshold balancing")
    g = p.add_argument_group("training")
    g.add_argument("--epochs", type=positive_int, default=None,
                   help="default: cnn 2, snn 1, tgo 1; cifar10: the recipe's (cpu: cnn 20, snn 1; gpu: cnn 100, snn 30)")
    g.add_argument("--batch-size", type=positive_int, default=None, help="default 64; cifar10 cnn: cpu 256, gpu 128")
    g.add_argument("--optimizer", default=None, choices=["adam", "sgd"],
                   help="adam, or sgd with Nesterov momentum (default adam; cifar10 cpu cnn: sgd)")
    g.add_argument("--momentum", type=fraction, default=0.9, help="sgd: Nesterov momentum")
    g.add_argument("--lr", type=positive_float, default=None,
                   help="peak learning rate (default 1e-3; cifar10 snn, tgo 1e-4; cifar10 cpu cnn: sgd 0.2)")
    g.add_argument("--schedule", default=None, choices=["cosine", "onecycle"],
                   help="learning rate over all steps: cosine decay from the peak, or onecycle: linear rise over "
                        "--warmup of the steps, then linear decay to 0 (default cosine; cifar10 cpu cnn: onecycle)")
    g.add_argument("--warmup", type=fraction, default=None, help="onecycle: share of the steps spent rising (default 0.2)")
    g.add_argument("--weight-decay", type=nonnegative_float, default=None, help="default 0; cifar10 cpu cnn 5e-4")
    g.add_argument("--label-smoothing", type=fraction, default=None, help="default 0; cifar10 cpu cnn 0.2")
    g.add_argument("--precision", default=None, choices=["fp32", "bf16"],
                   help="training arithmetic: fp32, or bf16 autocast with channels-last tensors (oneDNN/AMX on "
                        "recent x86 CPUs, tensor cores on GPUs; default fp32, cifar10 cpu recipe bf16). "
                        "Testing and conversion always run in fp32")
    g.add_argument("--no-augment", action="store_true", help="no random crops and flips (CIFAR-10)")
    g.add_argument("--n-train", type=positive_int, default=None,
                   help="training examples (default: all)")
    g.add_argument("--n-test", type=positive_int, default=None, help="test examples (default: all)")
    g.add_argument("--seed", type=int, default=0)
    g.add_argument("--out", default=None, help="run directory (default: runs/baselines/NET-DSET-sSEED)")
    g.add_argument("--resume", action="store_true", help="continue the run in --out from its last epoch")
    add_torch_device_option(g)
    g.add_argument("--threads", type=positive_int, default=None, help="torch CPU threads (default: torch's)")
    g.add_argument("--data-dir", type=existing_dir, default=None, help="dataset folder (else $SNN_DATA_DIR, else a user cache)")
    g.add_argument("--no-progress", action="store_true")
    args = p.parse_args(argv)
    try:
        args.dset = imagesets.canonical_name(args.dset)
    except imagesets.UnknownDatasetError as e:
        p.error(str(e))
    arch_given = args.arch is not None
    recipes = RECIPES.get(args.dset, {})
    if args.recipe and not recipes:
        p.error(f"--recipe is for {', '.join(RECIPES)}; {args.dset} has no recipes")
    args.recipe = (args.recipe or DEFAULT_RECIPE) if recipes else None
    d = {**NET_DEFAULTS[args.net], **TRAIN_DEFAULTS, **recipes.get(args.recipe, {}).get(args.net, {})}
    args.epochs = d["epochs"] if args.epochs is None else args.epochs
    args.timesteps = d["T"] if args.timesteps is None else args.timesteps
    args.leak = d["leak"] if args.leak is None else args.leak
    for name in ("batch_size", "lr", "dropout", "optimizer", "weight_decay", "schedule", "warmup", "label_smoothing",
                 "precision", "v_init", "n_train", "arch", "encoding", "percentile", "hybrid"):
        if getattr(args, name) is None:
            setattr(args, name, d[name])
    args.noise = (NOISE if args.net == "tgo" else 0.0) if args.noise is None else args.noise
    if args.net in ("snn", "tgo") and args.from_dir and (Path(args.from_dir) / CONFIG).is_file() and not arch_given:
        args.arch = without_batchnorm(load_json(Path(args.from_dir) / CONFIG)["model"]["arch"])   # the converted CNN's
    args.arch = args.arch or (STDP_HIDDEN if args.net == "stdp" and args.from_dir else DEFAULT_ARCH[args.dset])
    args.init = args.init or ("data" if args.dset == "cifar10" else "kaiming")
    if args.from_dir and (args.net in CONVERTIBLE or (args.net in ("snn", "tgo") and args.threshold != 1)):
        p.error("--from is for converted, snn, tgo and stdp, snn and tgo with --threshold 1 (that of converted "
                "weights); stdp-cnn learns its layer 0 itself")
    check_hybrid(p, args)
    missing = [f for f in ("config.json", "weights.npz") if not (Path(args.from_dir) / f).is_file()] \
        if args.net == "stdp" and args.from_dir else []
    if missing:
        p.error(f"--from {args.from_dir} has no {missing[0]}: it is not a finished bio.train_stdp run "
                f"(train one with python -m bio.train_stdp --dset {args.dset} --n-exc 400 --out {args.from_dir})")
    check_from(p, args)
    if args.stdp_images < 2:
        p.error("--stdp-images must be at least 2")
    args.out = args.out or f"runs/baselines/{args.net}-{args.dset}-s{args.seed}"
    args.bias = default_bias(args) if args.bias is None else args.bias
    try:
        args.device = torch_device(args.torch_device)
        args.model = model_kwargs(args)
    except ValueError as e:
        p.error(str(e))
    return args


def check_from(p, args) -> None:
    """A CNN run given with --from must have finished (config and weights), before anything is written."""
    if not args.from_dir or args.net == "stdp":   # stdp --from: a bio.train_stdp run, checked by the caller
        return
    missing = [f for f in (CONFIG, MODEL) if not (Path(args.from_dir) / f).is_file()]
    if missing:
        p.error(f"--from {args.from_dir} has no {missing[0]}: it is not a finished networks.train CNN run "
                f"(train one with python -m networks.train --net cnn --dset {args.dset} --out {args.from_dir})")


def check_hybrid(p, args) -> None:
    """--hybrid and --cnn-epochs are for the stdp net; a hybrid one learns its layer 0 by conv STDP and
    starts BPTT from converted weights, whose threshold is 1."""
    if args.hybrid and args.net != "stdp":
        p.error("--hybrid is for --net stdp (snn and tgo are hybrid with --from CNN_RUN)")
    if args.cnn_epochs is not None and not args.hybrid:
        p.error("--cnn-epochs is for --net stdp --hybrid (the cifar10 recipes)")
    if args.hybrid and args.from_dir:
        p.error("--net stdp --hybrid learns layer 0 by conv STDP and trains a CNN above it; --from (a Brian2 "
                "layer) is for --no-hybrid")
    if args.hybrid and args.threshold != 1:
        p.error("--net stdp --hybrid starts from converted weights: --threshold must be 1")


def default_bias(args) -> bool:
    """Biases, unless the run this one continues (--resume) or starts from (--from) has none.

    Without biases a ReLU net's first-layer pre-activations are exactly 0 wherever MNIST's background
    is, ReLU's derivative there is 0, and most input pixels get an exactly-zero gradient that FGSM
    (sign(0) = 0) never moves: gradient masking, not robustness. Runs made before biases became the
    default say "bias": false in their config; they load, resume and convert as they were.
    """
    for run, used in ((args.out, args.resume), (args.from_dir, bool(args.from_dir) and args.net != "stdp")):
        if used and (Path(run) / CONFIG).exists():
            model = load_json(Path(run) / CONFIG)["model"]
            if run == args.from_dir and without_batchnorm(model["arch"]) != model["arch"]:
                return True   # folding batch norm gives every layer a bias
            return bool(model.get("bias", False))
    return True


def model_kwargs(args) -> dict:
    """Constructor arguments of the model (for converted: of the SNN it becomes)."""
    kw = dict(arch=args.arch, in_shape=list(IN_SHAPE[args.dset]), n_classes=10, bias=args.bias)
    if args.net == "stdp" and args.from_dir:   # a Diehl & Cook layer under the --arch layers
        n_exc = load_json(Path(args.from_dir) / "config.json")["network"]["n_exc"]   # the weights load later
        kw.update(arch=f"f{n_exc}-{args.arch}", on_off=False)
    elif args.hybrid:                          # the converted stdp-cnn: every norm folded, every layer a bias
        kw.update(arch=without_batchnorm(args.arch), bias=True, on_off=True)
    elif args.net in STDP_NETS:                # the first conv layer of --arch, learned by conv STDP
        kw.update(arch=stdp_arch(args.arch), on_off=True)
    if args.net != "converted":
        kw["dropout"] = args.dropout
    if args.net in SPIKING:
        kw.update(T=args.timesteps, leak=args.leak, encoding=args.encoding, surrogate=args.surrogate,
                  slope=args.slope, noise=args.noise, v_init=args.v_init)
    if args.net in TRAINED_SPIKING:
        kw.update(threshold=args.threshold, readout=args.readout, reset=args.reset)
    if args.net == "tgo":
        kw.update(guard=args.guard, margin=args.margin)
    build_model(args.net if args.net != "converted" else "snn", **kw)   # fail early on bad values
    return kw


def settings(args) -> dict:
    return {k: (str(v) if isinstance(v, torch.device) else v) for k, v in vars(args).items()
            if k not in ("model", "device")}


# --- data ----------------------------------------------------------------
def load_data(args):
    try:
        x_train, y_train = imagesets.load(args.dset, "train", data_dir=args.data_dir)
        x_test, y_test = imagesets.load(args.dset, "test", data_dir=args.data_dir)
    except imagesets.DatasetError as e:
        raise SystemExit(f"error: {e}")
    n_train, n_test = args.n_train or len(x_train), args.n_test or len(x_test)
    return (torch.as_tensor(x_train[:n_train]), torch.as_tensor(y_train[:n_train]),
            torch.as_tensor(x_test[:n_test]), torch.as_tensor(y_test[:n_test]))


def augment(x: torch.Tensor, gen: torch.Generator | None = None) -> torch.Tensor:
    """Random 4-pixel-padded crops and horizontal flips of float NCHW images."""
    n, _, h, w = x.shape
    r = lambda hi: torch.randint(hi, (n,), generator=gen).to(x.device)  # noqa: E731
    flip = r(2).bool()
    x = torch.where(flip[:, None, None, None], x.flip(3), x)
    pad = F.pad(x, (4, 4, 4, 4))
    rows = r(9)[:, None] + torch.arange(h, device=x.device)
    cols = r(9)[:, None] + torch.arange(w, device=x.device)
    idx = torch.arange(n, device=x.device)[:, None, None]
    return pad.permute(0, 2, 3, 1)[idx, rows[:, :, None], cols[:, None, :]].permute(0, 3, 1, 2)


def epoch_seed(seed: int, epoch: int) -> int:
    return int(np.random.SeedSequence([seed, epoch]).generate_state(1)[0])


@torch.no_grad()
def predictions(model, x, batch_size: int = 500, progress: bool = False, desc: str = "testing",
                per_step: bool = False, checkpoint: Path | None = None, key=None) -> torch.Tensor:
    """Predicted classes of ``model`` for uint8 images ``x``: (N,), or with ``per_step`` (N, T), those of the
    same spiking net with T = 1..T. With ``checkpoint``, the predictions so far and the torch random state
    are saved there after every batch, and a pass cut off resumes from them exactly (Poisson draws
    included) when ``key`` matches; the caller removes the file when done."""
    model.eval()
    device = next(model.parameters()).device
    preds, start = [], 0
    if checkpoint is not None and Path(checkpoint).exists():
        saved = load_checkpoint(checkpoint)
        if saved.get("key") == key:
            preds, start = list(saved["preds"]), len(saved["preds"])
            torch.set_rng_state(saved["rng"])
    ks = range(0, len(x), batch_size)
    for k in tqdm(ks[start:], desc=desc, disable=not progress, dynamic_ncols=True, initial=start, total=len(ks)):
        xb = x[k:k + batch_size].to(device)
        preds.append((model(xb, per_step=True).argmax(2) if per_step else model(xb).argmax(1)).cpu())
        if checkpoint is not None:
            save_checkpoint(checkpoint, {"key": key, "preds": preds, "rng": torch.get_rng_state()})
    return torch.cat(preds)


def evaluate(model, x, y, batch_size: int = 500, progress: bool = False, desc: str = "testing", **resume):
    """(accuracy, predictions) of ``model`` on uint8 images ``x``; ``resume``: see predictions."""
    pred = predictions(model, x, batch_size, progress, desc, **resume)
    return float((pred == y).float().mean()), pred


def evaluate_per_step(model, x, y, batch_size: int = 500, progress: bool = False, desc: str = "testing", **resume):
    """(accuracy, {t: accuracy of the same net with T = t}) of a SpikingNet on uint8 images ``x``, one pass;
    t runs over powers of two and T."""
    pred = predictions(model, x, batch_size, progress, desc, per_step=True, **resume)
    right = (pred == y[:, None]).float().mean(0)
    steps = sorted({2 ** k for k in range(model.T.bit_length()) if 2 ** k <= model.T} | {model.T})
    return float(right[-1]), {t: float(right[t - 1]) for t in steps}


# --- training --------------------------------------------------------------
def learning_rate(args, step: int, total: int) -> float:
    """The learning rate at ``step`` of ``total`` training steps."""
    if args.schedule == "cosine":
        return 0.5 * args.lr * (1 + math.cos(math.pi * step / total))
    progress = step / total
    if progress < args.warmup:
        return args.lr * progress / args.warmup
    return args.lr * (1 - progress) / (1 - args.warmup)


def make_optimizer(args, model) -> torch.optim.Optimizer:
    if args.optimizer == "sgd":
        return torch.optim.SGD(model.parameters(), lr=args.lr, momentum=args.momentum, nesterov=True,
                               weight_decay=args.weight_decay)
    return torch.optim.Adam(model.parameters(), lr=args.lr, weight_decay=args.weight_decay)


def channels_last(args, model) -> bool:
    """bf16 runs keep conv tensors channels-last (NHWC): oneDNN's fast bf16 kernels want that layout."""
    return args.precision == "bf16" and any(isinstance(m, torch.nn.Conv2d) for m in model.layers)


def train(args, model, x, y, state: dict, run_dir: Path, progress: bool = True) -> dict:
    """Run the epochs still to do from ``state`` (a loaded or fresh checkpoint)."""
    device = args.device
    nhwc = channels_last(args, model)
    if nhwc:
        model.to(memory_format=torch.channels_last)
    opt = make_optimizer(args, model)
    if state.get("optimizer"):
        opt.load_state_dict(state["optimizer"])
    x, y = x.to(device), y.to(device)
    steps = math.ceil(len(x) / args.batch_size)
    use_augment = args.dset == "cifar10" and not args.no_augment
    autocast = torch.autocast(device.type, dtype=torch.bfloat16, enabled=args.precision == "bf16")
    for epoch in range(state["epoch"], args.epochs):
        torch.manual_seed(epoch_seed(args.seed, epoch))
        order = torch.as_tensor(np.random.default_rng([args.seed, epoch]).permutation(len(x)), device=device)
        model.train()
        first = state.pop("step", 0)    # a checkpoint from within this epoch: go on from its step
        tot_loss, tot_right, seen, before = state.pop("partial", (0.0, 0, 0, 0.0))
        if first:
            torch.set_rng_state(state.pop("rng"))
        t0 = last_save = time.perf_counter()
        bar = tqdm(range(first, steps), desc=f"{args.net} epoch {epoch + 1}/{args.epochs}", disable=not progress,
                   dynamic_ncols=True, initial=first, total=steps)
        for k in bar:
            lr = learning_rate(args, epoch * steps + k, args.epochs * steps)
            for group in opt.param_groups:
                group["lr"] = lr
            idx = order[k * args.batch_size:(k + 1) * args.batch_size]
            xb = as_images(x[idx], model.in_shape)
            if use_augment:
                xb = augment(xb)
            if nhwc:
                xb = xb.contiguous(memory_format=torch.channels_last)
            with autocast:
                loss, logits = model.training_loss(xb, y[idx], label_smoothing=args.label_smoothing)
            opt.zero_grad(set_to_none=True)
            loss.backward()
            opt.step()
            tot_loss += loss.item() * len(idx)
            tot_right += int((logits.argmax(1) == y[idx]).sum())
            seen += len(idx)
            bar.set_postfix(loss=f"{tot_loss / seen:.4f}", acc=f"{tot_right / seen:.4f}")
            if k + 1 < steps and time.perf_counter() - last_save >= CHECKPOINT_SECONDS:   # within a long epoch
                save_checkpoint(run_dir / MODEL, {
                    **state, "model": model.state_dict(), "optimizer": opt.state_dict(), "step": k + 1,
                    "rng": torch.get_rng_state(), "partial": (tot_loss, tot_right, seen, before + time.perf_counter() - t0)})
                last_save = time.perf_counter()
        bar.close()
        seconds = before + time.perf_counter() - t0
        state["history"].append({"epoch": epoch + 1, "loss": tot_loss / seen, "train_accuracy": tot_right / seen,
                                 "seconds": seconds})
        state.update(epoch=epoch + 1, model=model.state_dict(), optimizer=opt.state_dict(),
                     train_seconds=state["train_seconds"] + seconds)
        save_checkpoint(run_dir / MODEL, state)
    if nhwc:   # tested, attacked and saved in the default layout
        model.to(memory_format=torch.contiguous_format)
    return state


def prepare_run_dir(args) -> tuple[Path, dict | None]:
    """The run directory and, with --resume, its checkpoint (else None: a hybrid stdp run resumed in a stage
    before its own first checkpoint, which its CNN stage's run directory holds)."""
    run_dir = Path(args.out)
    record = {"net": args.net, "dset": args.dset, "model": args.model, "train": settings(args)}
    staged = args.hybrid and (run_dir / CONFIG).exists()
    if args.resume:
        if not (run_dir / MODEL).exists() and not staged:
            raise SystemExit(f"error: --resume given but {run_dir / MODEL} does not exist; start without --resume")
        old = load_json(run_dir / CONFIG)
        new = {**record["train"], "model": record["model"]}
        was = {**old["train"], "model": {k: v for k, v in BEFORE_MODEL.items() if k in new["model"]} | old["model"]}
        if args.net == "converted":   # its architecture comes from the CNN it converts (run_converted)
            new["model"], was["model"] = ({k: v for k, v in m.items() if k not in ("arch", "bias", "on_off")}
                                          for m in (new["model"], was["model"]))
        changed = [k for k in new if k not in RESUMABLE and was.get(k, BEFORE_OPTION.get(k)) != new[k]]
        if changed:
            raise SystemExit(f"error: --resume with different settings than the run in {run_dir}: "
                             + ", ".join(f"{k} was {was.get(k)!r}, now {new[k]!r}" for k in changed))
        save_json(run_dir / CONFIG, {**old, "train": record["train"]})
        return run_dir, load_checkpoint(run_dir / MODEL, args.device) if (run_dir / MODEL).exists() else None
    if any((run_dir / f).exists() for f in (MODEL, METRICS) + ((HYBRID_CNN,) if args.hybrid else ())):
        raise SystemExit(f"error: {run_dir} already holds a run; pass --resume to continue it or --out NEWDIR")
    run_dir.mkdir(parents=True, exist_ok=True)
    save_json(run_dir / CONFIG, record)
    return run_dir, None


def convert_run(args, cnn_dir, x_train):
    """(converted SNN, scales, CNN) from the CNN (or stdp-cnn) run in ``cnn_dir``, calibrated on training images."""
    if load_json(Path(cnn_dir) / CONFIG)["net"] not in CONVERTIBLE:
        raise SystemExit(f"error: --from {cnn_dir} is not a CNN run ({' or '.join(CONVERTIBLE)})")
    cnn = load_model(cnn_dir, args.device)
    torch.manual_seed(args.seed)
    snn, scales = convert(cnn, x_train[:args.n_calib], percentile=args.percentile, T=args.timesteps,
                          leak=args.leak, encoding=args.encoding, surrogate=args.surrogate, slope=args.slope,
                          noise=args.noise, v_init=args.v_init, progress=not args.no_progress)
    return snn, scales, cnn


def sub_run_argv(args, net: str, out: Path) -> list[str]:
    """The command line of a run this one starts in ``out`` (its CNN stage): the options they share, and
    --resume where that run has checkpointed."""
    argv = ["--net", net, "--dset", args.dset, "--arch", args.arch, "--seed", str(args.seed),
            "--torch-device", args.torch_device, "--out", str(out)]
    argv += ["--recipe", args.recipe] if args.recipe else []
    argv += ["--threads", str(args.threads)] if args.threads else []
    argv += ["--bias" if args.bias else "--no-bias"] + ["--no-progress"] * args.no_progress
    argv += ["--n-train", str(args.n_train)] if args.n_train else []
    argv += ["--data-dir", args.data_dir] if args.data_dir else []
    argv += ["--resume"] if (out / MODEL).exists() else []
    return argv


def record_conversion(run_dir: Path, snn, cnn_dir: Path) -> None:
    """config.json: the CNN run a converted net came from, and the SNN's architecture (the CNN's folded),
    whatever --arch/--bias said."""
    cfg = load_json(run_dir / CONFIG)
    cfg["model"] = {**cfg["model"], "arch": snn.arch, "bias": snn.layers[0].bias is not None}
    cfg["model"].update({"on_off": True} if snn.on_off else {})
    cfg["converted_from"] = str(cnn_dir)
    save_json(run_dir / CONFIG, cfg)


def run_converted(args, x_train, run_dir: Path) -> tuple[torch.nn.Module, dict]:
    cnn_dir = Path(args.from_dir) if args.from_dir else run_dir / "cnn"
    if not args.from_dir and not (cnn_dir / METRICS).exists():
        main(sub_run_argv(args, "cnn", cnn_dir) + [
            "--epochs", str(args.epochs), "--batch-size", str(args.batch_size), "--lr", str(args.lr),
            "--dropout", str(args.dropout), "--optimizer", args.optimizer, "--momentum", str(args.momentum),
            "--schedule", args.schedule, "--warmup", str(args.warmup), "--weight-decay", str(args.weight_decay),
            "--label-smoothing", str(args.label_smoothing), "--precision", args.precision])
    t0 = time.perf_counter()
    snn, scales, cnn = convert_run(args, cnn_dir, x_train)
    record_conversion(run_dir, snn, cnn_dir)
    state = {"model": snn.state_dict(), "epoch": 0, "history": [], "train_seconds": time.perf_counter() - t0,
             "scales": torch.tensor(scales)}
    save_checkpoint(run_dir / MODEL, state)
    return snn, {"scales": scales, "cnn_test_accuracy": load_json(cnn_dir / METRICS)["test_accuracy"]}


def run_stdp_cnn_stage(args, run_dir: Path) -> Path:
    """stdp --hybrid, stages 1 and 2, as a stdp-cnn run in OUT/cnn (skipped once it has finished): conv STDP
    learns layer 0's filters, then the CNN above them trains with the recipe's CNN settings (--recipe; only
    its epochs can be changed here, --cnn-epochs). Returns its run directory."""
    cnn_dir = run_dir / HYBRID_CNN
    if not (cnn_dir / METRICS).exists():
        stdp = ["-t", str(args.timesteps), "--stdp-images", str(args.stdp_images)]
        epochs = ["--epochs", str(args.cnn_epochs)] if args.cnn_epochs else []   # else the recipe's
        main(sub_run_argv(args, "stdp-cnn", cnn_dir) + stdp + epochs)
    return cnn_dir


def start_from_stdp_cnn(args, model, x_train, run_dir: Path) -> dict:
    """stdp --hybrid, stages 1-3: the CNN stage (run_stdp_cnn_stage), then its conversion, loaded into ``model``
    and checkpointed as epoch 0 of BPTT. Returns that checkpoint's state."""
    cnn_dir = run_stdp_cnn_stage(args, run_dir)
    t0 = time.perf_counter()
    snn, scales, _ = convert_run(args, cnn_dir, x_train)
    try:
        model.load_state_dict(snn.state_dict())
    except RuntimeError as e:   # cannot happen unless OUT/cnn was made by other settings
        raise SystemExit(f"error: the CNN stage in {cnn_dir} does not fit this net: {e}")
    record_conversion(run_dir, snn, cnn_dir)
    state = {"model": model.state_dict(), "epoch": 0, "history": [], "train_seconds": 0.0,
             "scales": torch.tensor(scales), "conversion_seconds": time.perf_counter() - t0}
    save_checkpoint(run_dir / MODEL, state)
    return state


def stage_record(state: dict, run_dir: Path) -> dict:
    """stdp --hybrid: what metrics.json says of the stages before BPTT (OUT/cnn: the stdp-cnn run)."""
    cnn_dir = run_dir / HYBRID_CNN
    cnn, filters = load_json(cnn_dir / METRICS), load_npz(cnn_dir / STDP_FILTERS)
    return {"scales": state["scales"].tolist(), "cnn_test_accuracy": cnn["test_accuracy"],
            "stdp_convergence": float(filters["convergence"]),
            "stage_seconds": {"stdp": float(filters["seconds"]), "cnn": cnn["seconds"],
                              "conversion": state["conversion_seconds"]}}


def stdp_weights(args, model, x_train, run_dir: Path, progress: bool) -> np.ndarray:
    """Layer 0's STDP weights: a Diehl & Cook run's input weights (--from), else conv filters learned by
    networks.conv_stdp on the first --stdp-images training images, grayscale or colour (kept in the run
    as stdp_filters.npz)."""
    if args.from_dir:
        return load_stdp_run(args.from_dir)[0]
    path = run_dir / STDP_FILTERS
    if not path.exists():
        first = model.layers[0]
        t0 = time.perf_counter()
        w = learn_filters(as_images(x_train[:args.stdp_images], model.in_shape), first.out_channels,
                          first.kernel_size[0], T=args.timesteps, seed=args.seed, progress=progress)
        save_npz(path, w=w, seconds=np.float64(time.perf_counter() - t0), convergence=np.float64(convergence(w)))
    z = load_npz(path)
    print(f"conv STDP filters ({path}): convergence {float(z['convergence']):.4f} (0: every weight 0 or 1), "
          f"learned in {float(z['seconds']):.0f} s")
    return z["w"]


def initial_state(args, model, x_train, run_dir: Path, progress: bool) -> dict:
    """A fresh run's starting weights, set in ``model``, and its state before the first epoch."""
    if args.hybrid:
        return start_from_stdp_cnn(args, model, x_train, run_dir)
    if args.net in STDP_NETS:
        w = stdp_weights(args, model, x_train, run_dir, progress)
        model.load_stdp(w, x_train[:STDP_CALIB_IMAGES].to(args.device))   # per-map standardisation: no labels
    elif args.from_dir:
        try:
            model.load_state_dict(convert_run(args, args.from_dir, x_train)[0].state_dict())
        except RuntimeError as e:   # another architecture
            raise SystemExit(f"error: the CNN in {args.from_dir} does not fit --arch/--bias: {e}")
    elif args.init == "data" and args.net != "cnn":
        rates = model.data_init(x_train[:DATA_INIT_IMAGES].to(args.device))
        print("data init, spike rates per layer:", " ".join(f"{r:.3f}" for r in rates))
    return {"epoch": 0, "history": [], "train_seconds": 0.0}


def main(argv=None) -> dict:
    args = parse_args(argv)
    if args.threads:
        torch.set_num_threads(args.threads)
    progress = not args.no_progress
    x_train, y_train, x_test, y_test = load_data(args)
    with run_lock(args.out):   # one process per run directory, for the whole run
        return run(args, x_train, y_train, x_test, y_test, progress)


def run(args, x_train, y_train, x_test, y_test, progress: bool) -> dict:
    """Train and test into the run directory ``args.out``, which this process has locked."""
    run_dir, state = prepare_run_dir(args)
    extra = {}
    if args.net == "converted":
        model, extra = run_converted(args, x_train, run_dir)
        state = load_checkpoint(run_dir / MODEL)
    else:
        torch.manual_seed(args.seed)
        model = build_model(args.net, **args.model).to(args.device)
        if state is None:
            state = initial_state(args, model, x_train, run_dir, progress)
        else:
            model.load_state_dict(state["model"])
        if args.hybrid:
            extra = stage_record(state, run_dir)
        state = train(args, model, x_train, y_train, state, run_dir, progress)
    t0 = time.perf_counter()
    torch.manual_seed(args.seed)   # Poisson draws of the test pass
    resume = dict(checkpoint=run_dir / TEST_PROGRESS, key=[state["epoch"], len(x_test)])
    if args.net in SPIKING:
        acc, extra["test_accuracy_by_T"] = evaluate_per_step(model, x_test, y_test, progress=progress, **resume)
    else:
        acc, _ = evaluate(model, x_test, y_test, progress=progress, **resume)
    eval_s = time.perf_counter() - t0
    metrics = {
        "net": args.net, "dset": args.dset, "test_accuracy": acc, "n_test": len(x_test), "n_train": len(x_train),
        "epochs": state["epoch"], "train_seconds": state["train_seconds"], "eval_seconds": eval_s,
        "seconds": state["train_seconds"] + eval_s, "device": str(args.device), "threads": torch.get_num_threads(),
        "history": state["history"], **extra,
    }
    if "stage_seconds" in extra:   # stdp --hybrid: its stages before BPTT too (the CNN's with its test pass)
        metrics["pipeline_seconds"] = metrics["seconds"] + sum(extra["stage_seconds"].values())
    save_json(run_dir / METRICS, metrics)
    (run_dir / TEST_PROGRESS).unlink(missing_ok=True)
    print(json.dumps({k: metrics[k] for k in ("net", "dset", "test_accuracy", "n_test", "epochs", "seconds")}))
    print(f"run directory: {run_dir}")
    return metrics


if __name__ == "__main__":
    exit_with(main, user_errors=(imagesets.DatasetError,))
