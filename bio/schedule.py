"""Diehl & Cook's < 5 spike rule: which example, how bright, each slot shows.

In the released code an example that evokes fewer than ``MIN_SPIKES`` exc
spikes during its 350 ms presentation is shown **again at once** (after the
rest), 32 Hz brighter at the maximum, until it evokes enough; the next example
starts at the normal rate. The compiled network applies the rule itself at
every slot start (``bio.network.DECIDE``), so a chunk never stops for Python
to decide. :func:`replay` is the same rule in numpy: given the spikes each slot
evoked, it tells which loaded example and which try every slot showed. The
runners check it against the network's own final state after every run, so
the two cannot drift apart.

A cap on tries (``max_repeats``, default ``P.MAX_REPEATS``) is this project's
addition: the released code has none. Any MNIST digit reaches 5 spikes long
before it (the runs in ``results/bio`` report how many examples hit the cap),
but a blank or adversarial image might never, and one such image must not
stall a whole run.
"""
from __future__ import annotations

import dataclasses

import numpy as np

from bio import parameters as P


@dataclasses.dataclass
class Schedule:
    """What a run showed; rows are slots, columns copies of the network."""

    pos: np.ndarray       # (slots, copies) index into the copy's loaded examples
    rep: np.ndarray       # (slots, copies) tries before this one (boost = rep * RATE_BOOST)
    final: np.ndarray     # (slots, copies) bool: this presentation was kept (the example moves on)
    shown: np.ndarray     # (slots, copies) bool: a loaded example was shown (False once a copy ran out)
    done: np.ndarray      # (copies,) examples finished
    next_rep: np.ndarray  # (copies,) tries of the example in progress at the end (0 if none)


def replay(spikes, rep0, n_loaded, max_repeats: int = P.MAX_REPEATS,
           min_spikes: int = P.MIN_SPIKES) -> Schedule:
    """Replay the rule. ``spikes`` (slots, copies): exc spikes each slot's
    presentation evoked; ``rep0`` (copies,): tries the first loaded example
    already had; ``n_loaded`` (copies,): examples loaded per copy."""
    spikes = np.asarray(spikes)
    slots, copies = spikes.shape
    pos = np.zeros(copies, np.int64)
    rep = np.asarray(rep0, np.int64).copy()
    n_loaded = np.asarray(n_loaded, np.int64)
    out = Schedule(np.zeros((slots, copies), np.int64), np.zeros((slots, copies), np.int64),
                   np.zeros((slots, copies), bool), np.zeros((slots, copies), bool),
                   np.zeros(copies, np.int64), np.zeros(copies, np.int64))
    for s in range(slots):
        shown = pos < n_loaded
        out.pos[s], out.rep[s], out.shown[s] = pos, rep, shown
        advance = (spikes[s] >= min_spikes) | (rep >= max_repeats)
        out.final[s] = advance & shown
        pos = pos + advance
        rep = np.where(advance, 0, rep + 1)
    out.done = np.minimum(pos, n_loaded)
    out.next_rep = np.where(pos < n_loaded, rep, 0)
    return out
