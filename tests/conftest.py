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
