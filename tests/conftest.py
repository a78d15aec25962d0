import re

import numpy as np
import pytest
import torch


@pytest.fixture(autouse=True)
def one_thread():
    """One torch thread: more threads than free cores slow small models down many times."""
    n = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(n)


def bars(n, seed=0):
    """Synthetic 28x28 digits: class 0 a vertical bar, class 1 a horizontal one."""
    rng = np.random.default_rng(seed)
    x = np.zeros((n, 28, 28), np.uint8)
    y = rng.integers(0, 2, n)
    for k in range(n):
        c = rng.integers(6, 20)
        if y[k] == 0:
            x[k, 4:24, c:c + 4] = 255
        else:
            x[k, c:c + 4, 4:24] = 255
    return x, y.astype(np.int64)


@pytest.fixture
def bars_dataset():
    return bars


# --- sweep points as analysis.measurement.evaluate() saves them, for the damping over seeds ----------
DAMPING_STAGES = {"cnn": ["input", "L1", "L2", "output"], "snn": ["input", "input spikes", "L1 mem", "L1 rate", "output"],
                  "bio": ["input", "input spikes", "exc counts", "output"]}
DAMPING_JOBS = {"cnn": {}, "snn": {"leak": 0.99, "T": 8}, "bio": {"tau_exc_ms": 100.0, "present_ms": 350.0}}
INPUT_CHANGE = 0.5   # every point's change at the input: the same transferred d on the same images


def damping_point(kind: str, seed: int, output: float, hidden: float | None = None, n_train: int = 60000,
                  n_test: int = 1000, floor: float | None = 0.05, **job) -> dict:
    """A sweep point of ``kind`` at its reference setting (``job`` overrides or adds settings): its change at
    every stage is INPUT_CHANGE times the ratio ``hidden`` (default: ``output``) at the hidden stages and
    ``output`` at the output under the transferred d; 1.2 times that under FGSM, half under random signs; each
    with a bootstrap interval of +-0.01; the noise floor ``floor`` at every stage but the input (None: no floor,
    a deterministic model)."""
    hidden = output if hidden is None else hidden
    stages = DAMPING_STAGES[kind]

    def change(k):
        v = {s: INPUT_CHANGE * (1.0 if s.startswith("input") else output if s == "output" else hidden) * k
             for s in stages}
        return {s: {"value": x, "ci95": [x - 0.01, x + 0.01]} for s, x in v.items()}
    ev = {"label": kind.upper(), "eps": 0.1, "levels": 256, "n": n_test, "clean_accuracy": 0.98 - 0.01 * seed,
          "stages": stages, "noise_floor": None if floor is None else
          {s: {"value": 0.0 if s == "input" else floor, "ci95": [0.0, 0.0] if s == "input" else [floor - 0.005,
                                                                                                 floor + 0.005]}
           for s in stages},
          "deltas": {d: {"adv_accuracy": 0.9, "attack_success_rate": 0.08, "change": change(k)}
                     for d, k in (("fgsm", 1.2), ("transfer", 1.0), ("random", 0.5))}}
    full = {"kind": kind, "seed": seed, "levels": 256, "n_train": n_train, "n_test": n_test, "eps": 0.1,
            "source": "runs/baselines/cnn-mnist-s1", **DAMPING_JOBS[kind], **job}
    name = re.sub(r"[^A-Za-z0-9.-]+", "", f"{kind}-s{seed}-{n_train}-{n_test}-" + "-".join(f"{k}{v}" for k, v in
                                                                                       sorted(job.items())))
    return {"name": name, "job": full, "eval": ev}
