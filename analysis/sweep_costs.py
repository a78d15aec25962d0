"""What a sweep point costs per unit of work, per dataset: the tables analysis.sweep_jobs forecasts from.

Plain values (no imports from the rest of the project): COST, MNIST's, fitted to the sweeps' recorded trainings
and evaluations and to benchmarks; CIFAR_COST, CIFAR-10's, a forecast from the CIFAR-10 measurements already in
the repository (no CIFAR-10 sweep point has run yet); COSTS by dataset.
"""
from __future__ import annotations

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
        "bio_craft": 1e-4,       # per test image, twin step and EOT draw
        # The converted SNN (the SNN's architecture, IF neurons): python -m benchmarks.converted_cost (2026-12-07,
        # benchmarks/results/converted_cost.json), CPU seconds of one thread on the loaded machine, 100 test
        # images, converted T 32 against an SNN at T 8. The SNN's evaluate() took 1.03e-2 s per image and step
        # there (COST's wall-time snn_eval: 1.1e-2), so these are its figures times the measured ratios: the
        # conversion (loading, calibrating on 2,000 training images: 1.9 s), networks.pipeline's test pass per
        # test image and time step (3.7e-4 measured), evaluate() per test image and time step besides crafting
        # (1.31e-2 measured: one more delta than the SNN, FGSM through its CNN). Its own gradients cost 1.09x the
        # SNN's per step (snn_craft is used), those through its CNN cnn_craft.
        "converted_train": 10.0,
        "converted_test": 4e-4,
        "converted_eval": 1.4e-2}
# The same units for CIFAR-10's CPU recipe (the `cifar` net, 6 convs, ~168,000 hidden neurons per time step against
# the MNIST SNN's ~38,000; direct input, so one draw per gradient). A FORECAST, not a measurement of the sweeps: no
# CIFAR-10 sweep point has run. Each figure comes from a measurement already in the repository, most of them on
# 2 threads, brought to one thread of the loaded machine (a sweep job's: --jobs 2, one thread each) by ONE_THREAD
# below. Where they disagree the range is given; the forecast is good to about x0.6-x1.5.
# ONE_THREAD: one loaded thread's time over 2 threads' for the same work, measured three ways: hybrid BPTT 4.9e-3 s
# per image and step on one thread (docs/torch-models.md: 29.5 ms per image at T 6, load 2-4) against 2.73e-3 on 2
# (results/accuracy/cifar10.json, snn-cifar10-s0: 1,091 s for 50,000 images x 8 steps): 1.8; the CNN's epoch, 3-4
# min on one loaded thread (docs/torch-models.md) against a median 112 s on 2 (cnn-cifar10-s0's epoch_seconds):
# 1.6-2.1; the converted net's test pass, 3.3e-3 s per image and step on one thread (docs/torch-models.md) against
# 2.47e-3 on 2 (converted-cifar10-s0: 1,582 s for 10,000 images x 64 steps): 1.3.
ONE_THREAD = 1.7
CIFAR_COST = {
    # per training image and epoch: cnn-cifar10-s0 trained 20 epochs of 50,000 images in 2,466 s on 2 threads
    # (results/accuracy/cifar10.json: 2.47e-3; seed 1, the machine shared: 4.8e-3) x ONE_THREAD; a full-data epoch
    # on one loaded thread took 3-4 min (docs/torch-models.md: 3.6e-3 to 4.8e-3). 70 min per CNN.
    "cnn_train": 4.2e-3,
    # per test image besides the suite: 2 gradients (white-box FGSM, the transfer source's FGSM) at cnn_craft, 4
    # predictions and 4 recorded passes at ~3e-3 (the CNN's test pass: 17.5 s for 10,000 images on 2 threads,
    # x ONE_THREAD) and the change per stage over its ~168,000 activations (as snn_eval below). Derived, unmeasured.
    "cnn_eval": 7e-2,
    # per test image and gradient: results/compare/cifar10/compare.json, the CNN's PGD-20 and APGD-25 cells (white-box
    # and as the transfer source, 200 images, batch 100, 2 threads): 6.0e-3 to 9.8e-3, median 7.5e-3, x ONE_THREAD
    "cnn_craft": 1.3e-2,
    # hybrid BPTT per training image and time step (bf16, the recipe's): 29.5 ms per image at T 6 on one thread
    # (load 2-4: 4.9e-3), 52 ms at T 8 (load 5-6: 6.5e-3) (docs/torch-models.md); snn-cifar10-s0, 2 threads:
    # 2.73e-3 x ONE_THREAD = 4.6e-3. 33 min for the recipe's epoch at T 8.
    "snn_train": 5e-3,
    # the conversion a hybrid starts from (7 s on 2 threads, docs/torch-models.md, converted-t8-p99: 6.7 s)
    "snn_convert": 11.0,
    # networks.pipeline's test pass of a trained spiking net, per test image and time step: 3.3e-3 on one thread
    # (docs/torch-models.md); 2.47e-3 (converted, T 64) and 2.6e-3 (hybrid, T 8) on 2 threads (results/accuracy)
    "snn_test": 3.3e-3,
    # evaluate() per test image and time step besides crafting and the suite's scoring: 4 predictions and 4
    # recorded passes (no Poisson floor: direct input) at ~3.3e-3 each, and the change per stage over ~168,000
    # membrane potentials per step; MNIST's snn_eval (1.1e-2, benchmarks/converted_cost.py) is mostly that change
    # over ~38,000: x4.4 gives 4.8e-2. Derived, unmeasured.
    "snn_eval": 5e-2,
    # per test image, time step and gradient: compare.json's white-box cells of the hybrid SNN (T 8) and the
    # converted SNN (T 16), PGD-20 and APGD-25 (200 images, batch 100, 2 threads, one draw: direct input): 7.0e-3 to
    # 1.55e-2, median 7.8e-3 (one APGD-DLR cell at 5.1e-2, a pause of the machine, left out), x ONE_THREAD. The
    # converted SNN's own gradients use it too (its cells: 7.0e-3 to 8.0e-3; the SNN's: 7.2e-3 to 1.55e-2).
    "snn_craft": 1.3e-2,
    # scoring one attack's images, per test image and time step (a forward pass): compare.json's score_seconds of
    # those cells, median 4.6e-3 on 2 threads; 3.3e-3 on one thread for the test pass (docs/torch-models.md)
    "snn_score": 4.5e-3,
    # the conversion (calibration on 2,000 training images): 6.2 and 6.7 s on 2 threads (results/accuracy), x ONE_THREAD
    "converted_train": 11.0,
    "converted_test": 3.3e-3,   # its test pass: snn_test
    # evaluate() per test image and step besides crafting: snn_eval and one delta more (FGSM through its CNN),
    # the MNIST ratio (converted_eval / snn_eval 1.27)
    "converted_eval": 6e-2}
COSTS = {"mnist": COST, "cifar10": CIFAR_COST}
