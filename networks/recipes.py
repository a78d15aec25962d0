"""What each net is trained with: the defaults of every option, per net, per dataset and recipe.

A value comes from, in order: the command line (or the keyword given to networks.settings.options),
the dataset's recipe for the net (RECIPES, e.g. cifar10's ``cpu`` recipe), NET_DEFAULTS for the net,
TRAIN_DEFAULTS. :func:`defaults` merges the last three; networks.settings applies them, and its
``--help`` prints them from here (:func:`default_text`), so the help cannot drift from what runs.
"""
from __future__ import annotations

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
STDP_CALIB_IMAGES = 1000   # stdp: training images the STDP layer's currents are standardised on
STDP_IMAGES = 3000         # stdp without --from: images the conv filters learn on (MNIST: converged by 2,000)
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


def defaults(net: str, dset: str, recipe: str | None) -> dict:
    """Every default of ``net`` on ``dset`` under ``recipe`` (None: a dataset without recipes)."""
    return {**NET_DEFAULTS[net], **TRAIN_DEFAULTS, **RECIPES.get(dset, {}).get(recipe, {}).get(net, {})}


def default_text(option: str, nets=tuple(NET_DEFAULTS)) -> str:
    """The default of ``option`` as --help states it: one value, or the value per net and per recipe
    where they differ (read from the tables above)."""
    plain = {net: defaults(net, "mnist", None).get(option) for net in nets}
    parts = [_per_net(plain)]
    for dset, recipes in RECIPES.items():
        for recipe in recipes:
            got = {net: defaults(net, dset, recipe).get(option) for net in nets}
            if got != plain:
                parts.append(f"{dset} {recipe} recipe: {_per_net(got)}")
    return "default " + "; ".join(parts)


def _per_net(values: dict) -> str:
    shown = {net: v for net, v in values.items() if v is not None}
    if not shown:
        return "none"
    if len(set(map(repr, shown.values()))) == 1 and len(shown) == len(values):
        return f"{next(iter(shown.values()))}"
    return ", ".join(f"{net} {v}" for net, v in shown.items())
