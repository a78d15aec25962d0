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
# Forward Euler at the released dt (0.5 ms) fails at short tau_exc: one inh spike adds 17 to gi,
# and v moves by dt/tau * gi * (E - v) per step, past the reversal potential (v reached +0.18 V
# at 50 ms, +7 V at 20 ms); in STDP training theta then ran away to ~93 mV and the network fell
# silent (chance accuracy). So the Brian2 points keep the released dt/tau.
DT_PER_TAU = 0.5 / 100.0
