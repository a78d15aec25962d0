"""The measurement engine: how robust a model is, and where a perturbation dies out.

Every robustness number of the study is computed here; analysis.compare, analysis.damping and the two
sweeps (analysis.leak_sweep, analysis.timestep_sweep) choose the models, call this package and write its
results out, and the figure families and the report read those results back from JSON. Two
measurements, each cached so that an interrupted run resumes and a changed setting recomputes:

* :mod:`analysis.measurement.evaluation` (analysis.damping and the sweeps): :func:`evaluate`, one model
  at one eps, accuracy, controls and the change of the perturbation per stage;
* :mod:`analysis.measurement.cells` (analysis.compare, analysis.transfer_matrix): :class:`Cells`, an attack
  suite (:class:`Suite`) on many models (:class:`Model`) at several eps, one cached JSON file per cell, and
  the worst case per example over the white-box attacks.

Both build on :mod:`analysis.measurement.crafting` (cache names, seeds, crafting, the quantizer), and
both measure the Brian2 network through :class:`Brian2Target` (:mod:`analysis.measurement.brian_target`),
the one wrapper of a bio.train_stdp run, which analysis.attack uses too.

The two keep their own model wrappers and random seeds (:class:`TorchSubject` / :class:`Brian2Target`
with a seed per purpose; :class:`Model` with a seed per cell, :func:`cell_seed`): their saved results
depend on them, so unifying them would change numbers that results/ already holds.
"""
from analysis.measurement.brian_target import BRIAN_CHUNK, LIFT, Brian2Target
from analysis.measurement.cells import Cells, Model, Suite
from analysis.measurement.crafting import batched_predict, cell_seed, craft, craft_attack, digest, fgsm, quantize, \
    quantize_uint8
from analysis.measurement.evaluation import EVAL_VERSION, CraftedImages, TorchSubject, change, evaluate, evaluate_cached, \
    load_test, relative_change, shared_deltas, subject, summarize, torch_label

__all__ = ["BRIAN_CHUNK", "LIFT", "Brian2Target", "Cells", "Model", "Suite", "batched_predict", "cell_seed", "craft",
           "craft_attack", "digest", "fgsm", "quantize", "quantize_uint8", "EVAL_VERSION", "CraftedImages", "TorchSubject", "change",
           "evaluate", "evaluate_cached", "load_test", "relative_change", "shared_deltas", "subject", "summarize",
           "torch_label"]
