"""The settings of a networks.train run: its command line, and the same settings as a function.

:func:`parse_args` reads the command line; :func:`options` takes the same settings as keywords (what
a run's stages and the sweeps call). Both fill what is not given from networks.recipes and check it
the same way (:func:`resolve`), so a run started either way is the same run. ``--help`` states every
default from the recipe tables.
"""
from __future__ import annotations

import argparse
from pathlib import Path

import torch

import imagesets
from networks.cnn import DEFAULT_ARCH, IN_SHAPE, without_batchnorm
from networks.devices import add_torch_device_option, torch_device
from networks.recipes import (CONVERTIBLE, DEFAULT_RECIPE, NET_DEFAULTS, RECIPES, SPIKING, STDP_HIDDEN, STDP_IMAGES,
                              STDP_NETS, TRAIN_DEFAULTS, TRAINED_SPIKING, default_text)
from networks.registry import CONFIG, MODEL, NETS, build_model
from networks.snn import ENCODINGS, READOUTS, RESETS
from networks.stdp_net import stdp_arch
from networks.surrogate import SURROGATES
from networks.tgo import GUARD, MARGIN, NOISE
from runstore.cli import (DefaultsHelp, Parser, existing_dir, from_keywords, fraction, nonnegative_float, percentile,
                          positive_float, positive_int, unit_interval)
from runstore.files import load_json

DESCRIPTION = "Train a torch baseline (CNN, surrogate SNN, converted SNN, TGO SNN, SNN + STDP) and test it."


def build_parser() -> Parser:
    p = Parser(prog="python -m networks.train", description=DESCRIPTION, formatter_class=DefaultsHelp)
    p.add_argument("--net", required=True, choices=list(NETS))
    p.add_argument("--dset", default="mnist", help="mnist, fashion or cifar10")
    p.add_argument("--arch", default=None, help="architecture name or spec (networks.cnn; default by dataset "
                   "and recipe: mnist 'mnist', cifar10 'cifar' (cpu) or 'vgg9' (gpu))")
    p.add_argument("--recipe", default=None, choices=["cpu", "gpu"],
                   help="cifar10: the defaults of every option below (RECIPES; default cpu); other datasets have none")
    p.add_argument("--bias", action=argparse.BooleanOptionalAction, default=None,
                   help="weight layers with biases (default: on; --resume and --from keep their run's choice; "
                        "--no-bias for the bias-free nets of earlier runs)")
    p.add_argument("--dropout", type=fraction, default=None, help="dropout on the hidden fc layers (" + default_text("dropout") + ")")
    g = p.add_argument_group("spiking nets (snn, tgo, converted)")
    g.add_argument("-t", "--timesteps", type=positive_int, default=None,
                   help="time steps T (stdp, stdp-cnn: also those of each conv STDP presentation; "
                        + default_text("T") + ")")
    g.add_argument("--leak", type=unit_interval, default=None, help="membrane leak per step, 1 = IF (" + default_text("leak") + ")")
    g.add_argument("--threshold", type=positive_float, default=1.0, help="firing threshold (snn, tgo)")
    g.add_argument("--encoding", default=None, choices=ENCODINGS,
                   help="input: Poisson spikes, or the image as a constant current ("
                        + default_text("encoding") + ")")
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
                   help="initial membrane potential in thresholds (" + default_text("v_init") + ")")
    g.add_argument("--percentile", type=percentile, default=None,
                   help="converted, and snn/tgo --from: activation percentile per layer that sets its scale (100 = max; "
                        + default_text("percentile") + ")")
    g.add_argument("--n-calib", type=positive_int, default=2000, help="converted: training images for threshold balancing")
    g = p.add_argument_group("training")
    g.add_argument("--epochs", type=positive_int, default=None,
                   help=default_text("epochs"))
    g.add_argument("--batch-size", type=positive_int, default=None, help=default_text("batch_size"))
    g.add_argument("--optimizer", default=None, choices=["adam", "sgd"],
                   help="adam, or sgd with Nesterov momentum (" + default_text("optimizer") + ")")
    g.add_argument("--momentum", type=fraction, default=0.9, help="sgd: Nesterov momentum")
    g.add_argument("--lr", type=positive_float, default=None,
                   help="peak learning rate (" + default_text("lr") + ")")
    g.add_argument("--schedule", default=None, choices=["cosine", "onecycle"],
                   help="learning rate over all steps: cosine decay from the peak, or onecycle: linear rise over "
                        "--warmup of the steps, then linear decay to 0 (" + default_text("schedule") + ")")
    g.add_argument("--warmup", type=fraction, default=None, help="onecycle: share of the steps spent rising (" + default_text("warmup") + ")")
    g.add_argument("--weight-decay", type=nonnegative_float, default=None, help=default_text("weight_decay"))
    g.add_argument("--label-smoothing", type=fraction, default=None, help=default_text("label_smoothing"))
    g.add_argument("--precision", default=None, choices=["fp32", "bf16"],
                   help="training arithmetic: fp32, or bf16 autocast with channels-last tensors (oneDNN/AMX on "
                        "recent x86 CPUs, tensor cores on GPUs). "
                        "Testing and conversion always run in fp32; " + default_text("precision"))
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
    return p


def parse_args(argv=None) -> argparse.Namespace:
    p = build_parser()
    return resolve(p.parse_args(argv), p.error)


def options(net: str, **given) -> argparse.Namespace:
    """The settings of a run of ``net`` given as keywords (the option names with underscores: ``n_train``,
    ``timesteps``, ``from_dir``, ...), everything else as the command line's defaults, resolved and
    checked as :func:`parse_args` does; a bad value raises runstore.cli.UserError."""
    return from_keywords(build_parser(), resolve, ["--net", net], **given)


def resolve(args: argparse.Namespace, error) -> argparse.Namespace:
    """Fill the options left None from the recipe tables, check the combination (``error(message)`` on a
    bad one), and add the device and the model's constructor arguments."""
    try:
        args.dset = imagesets.canonical_name(args.dset)
    except imagesets.UnknownDatasetError as e:
        error(str(e))
    arch_given = args.arch is not None
    recipes = RECIPES.get(args.dset, {})
    if args.recipe and not recipes:
        error(f"--recipe is for {', '.join(RECIPES)}; {args.dset} has no recipes")
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
        error("--from is for converted, snn, tgo and stdp, snn and tgo with --threshold 1 (that of converted "
              "weights); stdp-cnn learns its layer 0 itself")
    check_hybrid(error, args)
    check_from(error, args)
    if args.stdp_images < 2:
        error("--stdp-images must be at least 2")
    args.out = args.out or f"runs/baselines/{args.net}-{args.dset}-s{args.seed}"
    args.bias = default_bias(args) if args.bias is None else args.bias
    try:
        args.device = torch_device(args.torch_device)
        args.model = model_kwargs(args)
    except ValueError as e:
        error(str(e))
    return args


def check_from(error, args) -> None:
    """The run given with --from must have finished (its config and weights), before anything is written:
    for stdp a bio.train_stdp run, else a networks.train CNN run."""
    if not args.from_dir:
        return
    bio = args.net == "stdp"
    needs, kind, train = (((CONFIG, "weights.npz"), "bio.train_stdp", f"bio.train_stdp --dset {args.dset} --n-exc 400")
                          if bio else ((CONFIG, MODEL), "networks.train CNN", f"networks.train --net cnn --dset {args.dset}"))
    missing = [f for f in needs if not (Path(args.from_dir) / f).is_file()]
    if missing:
        error(f"--from {args.from_dir} has no {missing[0]}: it is not a finished {kind} run "
              f"(train one with python -m {train} --out {args.from_dir})")


def check_hybrid(error, args) -> None:
    """--hybrid and --cnn-epochs are for the stdp net; a hybrid one learns its layer 0 by conv STDP and
    starts BPTT from converted weights, whose threshold is 1."""
    if args.hybrid and args.net != "stdp":
        error("--hybrid is for --net stdp (snn and tgo are hybrid with --from CNN_RUN)")
    if args.cnn_epochs is not None and not args.hybrid:
        error("--cnn-epochs is for --net stdp --hybrid (the cifar10 recipes)")
    if args.hybrid and args.from_dir:
        error("--net stdp --hybrid learns layer 0 by conv STDP and trains a CNN above it; --from (a Brian2 "
              "layer) is for --no-hybrid")
    if args.hybrid and args.threshold != 1:
        error("--net stdp --hybrid starts from converted weights: --threshold must be 1")


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


def recorded(args) -> dict:
    """The settings a run directory's config.json keeps ("train"): every option, devices as text."""
    return {k: (str(v) if isinstance(v, torch.device) else v) for k, v in vars(args).items()
            if k not in ("model", "device")}


