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

This module is the command line only: the options and their defaults are networks.settings (from the
tables of networks.recipes), a run is networks.pipeline.run, its epochs networks.training, its stages
networks.stages.
"""
from __future__ import annotations

import imagesets
from networks.pipeline import load_data, run
from networks.settings import parse_args
from runstore.cli import exit_with


def main(argv=None) -> dict:
    args = parse_args(argv)
    return run(args, load_data(args.dset, args.data_dir))


if __name__ == "__main__":
    exit_with(main, user_errors=(imagesets.DatasetError,))
