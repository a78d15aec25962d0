"""Constants several analysis modules share: where the trained runs are, and the sweeps' settings.

Plain values, no imports from the rest of the project, so the computing modules (analysis.damping,
analysis.leak_sweep, analysis.timestep_sweep), the figure families and the report all take them from
here without importing one another.
"""
from __future__ import annotations

import os
from pathlib import Path

# --- trained runs and results (every CLI's default paths) -------------------------------------
RUNS = Path(os.environ.get("SNN_RUNS_DIR", "runs"))   # trained runs, relative to the project root
# Saved results and REPORT.md: every CLI's default --out lies below it. The workflow's tiny study points it
# elsewhere (workflow/config/tiny.yaml), so that it never writes into the committed results/.
RESULTS = Path(os.environ.get("SNN_RESULTS_DIR", "results"))
# Where the training CLIs write by default (networks.train: runs/baselines/NET-DSET-sSEED,
# bio.train_stdp: runs/stdp-DSET-nN-sSEED), so that a user's own runs are found.
DEFAULT_RUNS = {"cnn": RUNS / "baselines/cnn-mnist-s0", "snn": RUNS / "baselines/snn-mnist-s0",
                "converted": RUNS / "baselines/converted-mnist-s0", "bio": RUNS / "stdp-mnist-n100-s0",
                "stdp": RUNS / "baselines/stdp-mnist-s0"}   # stdp: networks.train --net stdp (seed 000's)
# The transfer source: a CNN trained independently of the target CNN (another seed) when there is one.
SOURCES = (RUNS / "baselines/cnn-mnist-s1", RUNS / "baselines/cnn-mnist-s0")
FULL_LEVELS = 256     # 8-bit source images: no pre-quantization
# Model names in tables, by networks.train's --net, and "bio" for the Brian2 Diehl & Cook network.
NET_LABELS = {"cnn": "CNN", "snn": "SNN (surrogate gradient)", "converted": "SNN (converted)", "tgo": "SNN (TGO)",
              "stdp": "SNN + STDP layer", "stdp-cnn": "CNN with the STDP layer", "bio": "Diehl & Cook (Brian2, STDP)"}
# The same models' short names, where a sentence or a longer label names one (analysis.compare's sources and
# notes, the labels of analysis.damping and the sweeps).
NET_SHORT = {"cnn": "CNN", "snn": "SNN", "converted": "converted SNN", "tgo": "TGO SNN", "stdp": "SNN + STDP layer",
             "stdp-cnn": "STDP CNN", "bio": "Diehl & Cook"}
assert set(NET_SHORT) == set(NET_LABELS), "every model of NET_LABELS needs its short name"
MODEL_ORDER = tuple(NET_LABELS)   # every figure and table lists the models in this one order
DSET_NAMES = {"cifar10": "CIFAR-10", "mnist": "MNIST", "fashion": "Fashion-MNIST"}   # in titles and the report
# The one exception: the names analysis.compare has always saved (compare.json's "net", hashed into its cache
# names), where "stdp" is the Brian2 network and networks.train's stdp net "stdp-net". Everywhere else, compare's
# code included, a model is named by its key above.
COMPARE_KIND = {"stdp": "stdp-net", "bio": "stdp"}

# --- the sweeps (analysis.leak_sweep, analysis.timestep_sweep) --------------------------------
# Two budgets. CONVERGED, the default: every torch model on all 60,000 training images for its own number of
# epochs (networks.recipes: CNN 2, surrogate SNN 1; the baselines reach CNN 99.1 %, SNN T = 8 98.6 %), every
# Brian2 point one full epoch of STDP and 10,000 labelling examples (the 100-exc reference: 83.8 %), 1,000 test
# images at each series' two ends and its reference setting and 500 at the points between (issue 28's second
# cut; its first, 3 seeds between the ends, is --middle-seeds): under-trained models differ from seed to seed
# far more than converged ones (BACKGROUND.md: FGSM sd over seeds 11-12 points at 4,000 images, 1-3 at 60,000).
# QUICK (--quick): small torch models and Brian2 points on 20,000 STDP examples, the least that gives a ~80 %
# network (3,000 gave 52-76 %), 200 test images everywhere: minutes per point, for a laptop.
QUICK = dict(n_train=4000, bio_n_train=20000, n_label=1000, n_test=200, middle_n_test=200, epochs=1, eps=0.1,
             eot=4, seed=0)
CONVERGED = dict(QUICK, n_train=60000, bio_n_train=60000, n_label=10000, n_test=1000, middle_n_test=500, epochs=None)
DEFAULTS = CONVERGED
BUDGET_KEYS = ("n_train", "bio_n_train", "n_label", "n_test", "middle_n_test", "epochs")   # what --quick changes
MIDDLE_SEEDS = 3   # models per point between a series' ends (at most --seeds)
REF = dict(T=8, leak=0.99, tau_exc_ms=100.0, present_ms=350.0)   # the baselines' settings, held fixed elsewhere
# The converted SNN's reference time steps (analysis.timestep_sweep's converted series): the T its levels series
# runs at and its T series' reference. Converted from the seed-1 CNN (Poisson input, IF, percentile 99.9), on the
# first 500 MNIST test images: T 8 98.6 %, 16 99.2 %, 32 99.4 %, 64 and 128 99.6 % (2026-12-07, a scratch
# run): 32 is within 0.2 points of the longest, at half the cost per attack of 64.
REF_CONVERTED_T = 32
# Job keys a sweep job carries only off their default, so the points made before them keep their names
# (analysis.sweep_jobs.make_job); a job without one has the default.
JOB_DEFAULTS = {"encoding": "poisson"}
# --- the sweeps on CIFAR-10 (--dset cifar10, issue 30) ------------------------------------------
# The datasets the sweeps run on; MNIST's settings are those above, and a job names its dataset only when it is
# not MNIST (analysis.sweep_jobs.make_job), so MNIST's points keep their names.
SWEEP_DSETS = ("mnist", "cifar10")
# CIFAR-10's models are networks.train's CPU recipe (networks.recipes CPU_CNN, CPU_CONVERSION, CPU_HYBRID): one
# CNN per seed (20 epochs), converted to IF neurons with direct input (T 64, percentile 99.9, v_init 0.5), and the
# surrogate SNN is the hybrid: that CNN converted at T 8 (percentile 99), then 1 epoch of BPTT. So its reference
# (the setting held fixed while another is swept, and the model the reference protocol crafts on) is the recipe's:
# T 8, IF (leak 1.0: CPU_HYBRID takes CPU_CONVERSION's), and the converted SNN's reference T the recipe's 64
# (tests/test_cifar_sweeps.py checks these against the recipes). tau_exc_ms and present_ms: no Brian2 network
# runs on CIFAR-10; kept so that every REF has the same keys.
CIFAR_REF = dict(REF, T=8, leak=1.0)
REFS = {"mnist": REF, "cifar10": CIFAR_REF}
REF_CONVERTED_TS = {"mnist": REF_CONVERTED_T, "cifar10": 64}
# The input encoding of the spiking jobs (surrogate and converted SNN) when a job names none: MNIST's Poisson
# (JOB_DEFAULTS), CIFAR-10's recipe's direct input (a constant current: deterministic, so EOT 1).
SPIKING_ENCODING = {"mnist": JOB_DEFAULTS["encoding"], "cifar10": "direct"}
# A hybrid surrogate SNN starts from its seed's CNN, converted (networks.train --net snn --from CNN_RUN): the
# CIFAR-10 recipe's. MNIST's SNN trains from random weights.
HYBRID_DSETS = ("cifar10",)
# Datasets whose converted SNNs, at every pre-quantization level, convert the seed's one CNN (256 levels), the
# levels applied to the calibration images and the input (issue 30: one CNN per seed, shared by every SNN of
# that seed). MNIST's converted SNN at L levels converts a CNN trained on images pre-quantized to L levels.
ONE_CNN_PER_SEED = ("cifar10",)
# Eps per dataset: the sweep measures one eps per point, so each eps of the list is a point of its own (same
# model, another measurement). CIFAR-10: 4/255 and 8/255, rounded as analysis.compare's CIFAR-10 table has them
# (results/compare/cifar10); 2/255 (0.0078) where time allows (--eps 0.0078 0.0157 0.0314).
SWEEP_EPS = {"mnist": [DEFAULTS["eps"]], "cifar10": [0.0157, 0.0314]}
# Budgets per dataset: CIFAR-10 has 50,000 training images (its converged models see all of them; the CNN trains
# its recipe's 20 epochs, the hybrid its 1).
BUDGETS = {"mnist": {"quick": QUICK, "converged": CONVERGED},
           "cifar10": {"quick": QUICK, "converged": dict(CONVERGED, n_train=50000)}}
# Where each dataset's sweeps write (summaries, points, trained models): CIFAR-10 beside MNIST's, not in it.
SWEEP_OUT = {"mnist": RESULTS / "sweeps", "cifar10": RESULTS / "sweeps-cifar10"}
# The transfer source per dataset. CIFAR-10's must not share a seed with the sweep's models: every SNN of a seed
# is derived from that seed's CNN, and a CNN of the same recipe and seed starts from the same weights and sees
# the same batches (analysis.sweep_points.settings refuses one whose seed is among the sweep's). The first
# present is taken: train it with networks.train --net cnn --dset cifar10 --seed 9 --out runs/baselines/cnn-cifar10-s9
TRANSFER_SOURCES = {"mnist": SOURCES, "cifar10": (RUNS / "baselines/cnn-cifar10-s9",)}

# Forward Euler at the released dt (0.5 ms) fails at short tau_exc: one inh spike adds 17 to gi,
# and v moves by dt/tau * gi * (E - v) per step, past the reversal potential (v reached +0.18 V
# at 50 ms, +7 V at 20 ms); in STDP training theta then ran away to ~93 mV and the network fell
# silent (chance accuracy). So the Brian2 points keep the released dt/tau.
DT_PER_TAU = 0.5 / 100.0
