"""The cells of analysis.compare and analysis.transfer_matrix: an attack suite (:class:`Suite`) on many models
(:class:`Model`) at several eps.

Clean accuracy, the zero-gradient share, adversarial accuracy per (model, attack, eps, setting) with
white-box, BPDA and transfer settings, and the worst case per example over the white-box attacks
(:func:`analysis.attacks.worst_case`). Each cell is a JSON file under the cache folder named by a hash of
everything its numbers depend on (:func:`analysis.measurement.crafting.digest`), adversarial images an npz
per crafting model; each cell draws its own random numbers (:func:`analysis.measurement.crafting.cell_seed`).
"""
from __future__ import annotations

import json
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

import numpy as np
import torch

from analysis.attacks import attack_settings, worst_case
from analysis.measurement.crafting import cell_seed, craft_attack, digest
from analysis.metrics import robustness, zero_gradient_share
from runstore.files import load_json, load_npz, save_json, save_npz


@dataclass
class Model:
    key: str                                     # unique name, used in cache file names
    kind: str                                    # a key of analysis.defaults.NET_LABELS ("bio": Brian2)
    label: str
    path: Path
    scores: Callable                             # differentiable: images (N, C, H, W) in [0, 1] -> class scores
    predict: Callable                            # images -> numpy predictions (bio: Brian2's, per draw)
    random: bool                                 # Poisson input: attack with EOT
    loss: str = "ce"
    info: dict = field(default_factory=dict)     # what the numbers depend on, and facts for the table
    lineage: set = field(default_factory=set)    # run dirs whose weights it derives from, and (net, seed)
    twin_predict: Callable | None = None         # bio: predictions of the torch twin the attacks are crafted on


@dataclass
class Suite:
    """The attacks, their eps, and every setting of theirs that a cell's numbers depend on."""
    attacks: list
    eps: list
    eot: int = 4                 # Poisson draws averaged per gradient of a spiking model
    pgd_steps: int = 40
    pgd_alpha: float | None = None   # None: PGD's own 2.5 eps / steps
    pgd_restarts: int = 2
    apgd_iter: int = 100
    batch_size: int = 100
    seed: int = 0


class Cells:
    """Cached cells of ``suite`` on images ``x``, labels ``y``: JSON files under ``cache``, each named by a
    hash of everything its numbers depend on; ``computed`` / ``cached`` count what this run did."""

    def __init__(self, suite: Suite, x, y, cache: Path, dset: str, device, progress: bool = True):
        self.suite, self.x, self.y, self.cache, self.dset, self.device = suite, x, y, Path(cache), dset, device
        self.progress = progress
        self.y_np = y.cpu().numpy()
        self.computed = self.cached = 0
        self._counting: set | None = None   # while :meth:`pending` runs: the files missing

    def common(self) -> dict:
        return {"dset": self.dset, "n": len(self.x), "seed": self.suite.seed}

    def attack_settings(self, model: Model, name: str) -> dict:
        s = self.suite
        return attack_settings(name, eot=s.eot if model.random else 1, loss=model.loss, pgd_steps=s.pgd_steps,
                               pgd_alpha=s.pgd_alpha, pgd_restarts=s.pgd_restarts, apgd_iter=s.apgd_iter)

    def adversarial_path(self, model: Model, name: str, eps: float) -> Path:
        kw = self.attack_settings(model, name)
        tag = f"{model.key}_{name}_eps{eps:g}"
        return self.cache / "adv" / f"{tag}-{digest([self.common(), model.info, name, eps, kw], 10)}.npz"

    def adversarial(self, model: Model, name: str, eps: float) -> tuple[torch.Tensor, float]:
        """Images crafted white-box on ``model`` (shared by its white-box cell and its transfers)."""
        kw = self.attack_settings(model, name)
        tag = f"{model.key}_{name}_eps{eps:g}"
        path = self.adversarial_path(model, name, eps)
        if not path.exists():
            t0 = time.perf_counter()
            x_adv = craft_attack(name, model.scores, self.x, self.y, eps, cell_seed(self.suite.seed, "craft " + tag),
                                 self.suite.batch_size, self.progress, f"{name} on {model.key}", **kw)
            save_npz(path, x_adv=x_adv.cpu().numpy().astype(np.float32),
                     seconds=np.float64(time.perf_counter() - t0))
        d = load_npz(path)
        return torch.as_tensor(d["x_adv"], device=self.device), float(d["seconds"])

    def score(self, model: Model, x: torch.Tensor, name: str) -> np.ndarray:
        seed = cell_seed(self.suite.seed, name)
        torch.manual_seed(seed)
        return model.predict(x, seed) if model.kind == "bio" else model.predict(x)

    def pending(self, plan: Callable[[], object]) -> int:
        """How many cells ``plan()`` asks for are not cached yet: it runs with every cell counted, none
        computed (each cell it gets is empty)."""
        self._counting = set()
        try:
            plan()
            return len(self._counting)
        finally:
            self._counting = None

    def cell(self, name: str, deps, compute: Callable[[], dict]) -> dict:
        path = self.cache / f"{name}-{digest([self.common(), deps], 10)}.json"
        if self._counting is not None:
            if not path.exists():
                self._counting.add(path)
            return {}
        if path.exists():
            self.cached += 1
            return load_json(path)
        t0 = time.perf_counter()
        rec = compute()
        rec["seconds"] = rec.get("seconds", 0.0) + time.perf_counter() - t0
        save_json(path, rec)
        self.computed += 1
        print(f"{name}: {json.dumps({k: v for k, v in rec.items() if k != 'pred'})}", flush=True)
        return rec

    def clean(self, model: Model) -> dict:
        def compute():
            pred = self.score(model, self.x, f"clean {model.key}")
            rec = {"pred": "".join(map(str, pred)), "accuracy": float((pred == self.y_np).mean())}
            if model.twin_predict is not None:
                rec["twin_accuracy"] = float((model.twin_predict(self.x) == self.y_np).mean())
            return rec
        return self.cell(f"clean_{model.key}", model.info, compute)

    def zero_grad(self, model: Model) -> dict:
        """The share of exactly-zero input gradients of the white-box loss (a cell of its own, so that the
        clean cells, Brian2's among them, stay cached)."""
        eot = self.suite.eot if model.random else 1

        def compute():
            torch.manual_seed(cell_seed(self.suite.seed, f"zerograd {model.key}"))
            return {"zero_grad_share": zero_gradient_share(model.scores, self.x, self.y, loss=model.loss, eot=eot,
                                                           batch_size=self.suite.batch_size)}
        return self.cell(f"zerograd_{model.key}", [model.info, model.loss, eot], compute)

    def worst_case(self, target: Model, eps: float, cells: list[dict]) -> dict:
        """Per example the worst over the white-box ``cells`` of ``target`` at ``eps``: robust only if right
        clean and under every attack (:func:`analysis.attacks.worst_case` on the cells' saved predictions)."""
        white = [c for c in cells if c["target"] == target.key and c["eps"] == eps and c["setting"].startswith("white")]
        clean = np.array(list(self.clean(target)["pred"]), int)
        preds = {k: np.array(list(c["pred"]), int) for k, c in enumerate(white)}
        robust = worst_case(lambda pred: pred, clean, self.y_np, preds).numpy()
        return {"target": target.key, "attack": "worst", "eps": eps, "setting": "white", "n": len(self.x),
                "attacks": [c["attack"] + ("" if c["setting"] == "white" else f" ({c['setting'][6:]})") for c in white],
                **robustness(self.y_np, clean, np.where(robust, self.y_np, -1))}

    def attack_cell(self, target: Model, name: str, eps: float, source: Model | None, role: str | None,
                    bpda: bool = False, related: bool = False) -> dict:
        """``bpda``: a white-box attack crafted on ``source``, the ReLU net ``target`` was converted from
        (BPDA: the IF layers' backward pass replaced by the ReLU activations they approximate). A transfer
        from a ``source`` that is, or shares weights or seed with, ``target`` is not black-box: skipped, or
        with ``related`` scored all the same and marked (``black_box`` false, ``related`` says why)."""
        setting = "white" if source is None else "white-bpda" if bpda else f"black-{role}"
        base = {"target": target.key, "attack": name, "eps": eps, "setting": setting, "n": len(self.x)}
        black_box = source is not None and not bpda
        if black_box:
            base["source"] = source.info["path"]
            shared = source.lineage & target.lineage
            if shared:
                why = "self" if source.path.resolve() == target.path.resolve() else "shares weights or seed"
                if not related:
                    return {**base, "black_box": False, "skipped": f"not black-box: source and target {why}"}
                black_box, base["related"] = False, f"not black-box: source and target {why}"
        crafter = source or target
        clean = self.clean(target)
        cell_name = f"{target.key}_{name}_eps{eps:g}_{setting}"
        deps = [target.info, crafter.info, name, eps, self.attack_settings(crafter, name)]

        def compute():
            x_adv, craft_s = self.adversarial(crafter, name, eps)
            t0 = time.perf_counter()
            pred = self.score(target, x_adv, cell_name)
            rec = {**base, "black_box": black_box, "craft_seconds": craft_s,
                   "score_seconds": time.perf_counter() - t0, "pred": "".join(map(str, pred)),
                   **robustness(self.y_np, np.array(list(clean["pred"]), int), pred)}
            if target.twin_predict is not None and source is None:
                tw = robustness(self.y_np, target.twin_predict(self.x), target.twin_predict(x_adv))
                rec["twin"] = {k: tw[k] for k in ("adv_accuracy", "attack_success_rate")}
            return rec
        return self.cell(cell_name, deps, compute)

    def table(self, targets: list[Model], sources: dict[str, Model], bpda: dict[str, Model]) -> dict:
        """Every cell of the suite on ``targets``: white-box, BPDA through ``bpda[target.key]`` where given,
        and transferred from each of ``sources`` ({role: model}); the worst case per (target, eps), and per
        target its clean accuracy and zero-gradient share."""
        s, cells = self.suite, []
        for t in targets:
            for name in s.attacks:
                for eps in s.eps:
                    cells.append(self.attack_cell(t, name, eps, None, None))
                    if t.key in bpda:
                        cells.append(self.attack_cell(t, name, eps, bpda[t.key], None, bpda=True))
                    cells += [self.attack_cell(t, name, eps, src, role) for role, src in sources.items()]
        worst = [self.worst_case(t, eps, cells) for t in targets for eps in s.eps]
        models = []
        for t in targets:
            c = self.clean(t)
            models.append({"key": t.key, "label": t.label, **t.info, "clean_accuracy": c["accuracy"],
                           "zero_grad_share": self.zero_grad(t)["zero_grad_share"],
                           **({"twin_clean_accuracy": c["twin_accuracy"]} if "twin_accuracy" in c else {})})
        return {"models": models, "cells": cells, "worst_case": worst}
