"""Poisson input spikes and their synaptic drive, sampled sparsely, with a straight-through gradient.

An input neuron with spike probability p per step (p = rate * dt, at most
~0.2 with every boost, ~0.03 for a white pixel at the base rate) fires in a
few percent of the steps. Drawing one uniform number per (example, step,
input) and multiplying the dense 0/1 trains by the weights spent most of the
twin's time on zeros; here each input's spike steps are drawn as geometric
gaps between spikes (P(gap = k) = (1 - p)^(k-1) p, the waiting time of a
Bernoulli process: the same distribution as one Bernoulli(p) draw per step),
about steps * p draws per input instead of steps, and the drive
``spikes @ W`` is a sparse-dense product.

The gradient is the straight-through estimate of the dense sampler
(d spike / d p = 1 at every step), so d loss / d p[b, i] is the sum over
steps of d loss / d drive[b, t] . W[i]: one small dense product.
"""
from __future__ import annotations

import math
import warnings

import torch


def spike_indices(p: torch.Tensor, steps: int, generator: torch.Generator | None = None):
    """(example, step, input) index tensors of Bernoulli(p[example, input]) spikes over ``steps`` steps.

    ``p`` is (B, n_input) in [0, 1]. Each round draws a block of gaps for every
    input still short of the last step, so the loop ends after one or two rounds.
    """
    b, i = (p > 0).nonzero(as_tuple=True)
    q = p[b, i]
    log_keep = torch.log1p(-q)                  # -inf at q = 1: a spike every step
    last = torch.full_like(q, -1.0)             # step of the latest spike drawn so far
    alive = torch.arange(len(q), device=p.device)
    found_row, found_step = [], []
    while len(alive):
        mean = steps * float(q[alive].max())
        k = max(4, min(steps, math.ceil(mean + 4 * math.sqrt(mean) + 4)))
        u = 1.0 - torch.rand((len(alive), k), generator=generator, dtype=q.dtype, device=q.device)   # (0, 1]
        # A gap past the end is as good as any longer one; the clamp keeps the sums exact in float32.
        gaps = (torch.log(u) / log_keep[alive, None]).floor_().add_(1).clamp_(max=steps + 1)
        t = last[alive, None] + gaps.cumsum(1)
        r, c = (t < steps).nonzero(as_tuple=True)
        found_row.append(alive[r])
        found_step.append(t[r, c].long())
        last[alive] = t[:, -1]
        alive = alive[t[:, -1] < steps - 1]
    rows = torch.cat(found_row) if found_row else b[:0]
    t = torch.cat(found_step) if found_step else b[:0]
    return b[rows], t, i[rows]


def _spike_matrix(b, t, i, batch: int, steps: int, n_input: int, dtype, device) -> torch.Tensor:
    """The 0/1 trains as a sparse (batch * steps, n_input) CSR matrix."""
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message="Sparse CSR tensor support is in beta")
        coo = torch.sparse_coo_tensor(torch.stack([b * steps + t, i]), torch.ones(len(b), dtype=dtype, device=device),
                                      (batch * steps, n_input), check_invariants=False)
        return coo.to_sparse_csr()


class _SparseDrive(torch.autograd.Function):
    @staticmethod
    def forward(ctx, p, w, spikes, steps):
        ctx.save_for_backward(w)
        ctx.spikes = spikes
        return (spikes @ w).view(p.shape[0], steps, w.shape[1])

    @staticmethod
    def backward(ctx, grad):
        (w,) = ctx.saved_tensors
        grad_p = grad.sum(1) @ w.T if ctx.needs_input_grad[0] else None
        grad_w = None
        if ctx.needs_input_grad[1]:
            grad_w = ctx.spikes.to_sparse_coo().t() @ grad.reshape(-1, w.shape[1])
        return grad_p, grad_w, None, None


def poisson_drive(p: torch.Tensor, w: torch.Tensor, steps: int, generator: torch.Generator | None = None,
                  return_spikes: bool = False):
    """Synaptic drive (B, steps, n_out) of Poisson(p) input spikes through ``w`` (n_input, n_out).

    ``p`` (B, n_input) is clamped to [0, 1] for sampling, as an attack's
    iterate may step slightly outside; the gradient passes straight through.
    ``return_spikes``: also return the dense 0/1 trains (B, steps, n_input).
    """
    batch, n_input = p.shape
    b, t, i = spike_indices(p.detach().clamp(0.0, 1.0), steps, generator)
    spikes = _spike_matrix(b, t, i, batch, steps, n_input, w.dtype, w.device)
    drive = _SparseDrive.apply(p, w, spikes, steps)
    if not return_spikes:
        return drive
    dense = torch.zeros((batch, steps, n_input), dtype=w.dtype, device=w.device)
    dense[b, t, i] = 1.0
    return drive, dense
