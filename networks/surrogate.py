"""Surrogate gradients for spikes and for the Poisson sampler.

A spike is Heaviside(x) with x the distance of the membrane potential above
threshold; its derivative is zero almost everywhere, so backpropagation
through a spiking network (and every gradient attack on one) needs a
substitute derivative. Each class below keeps the forward pass exact and
changes only the backward pass, in the style of snntorch's ``surrogate.py``:

==============  ===============================================  ==============
name            backward dS/dx                                   peak, width
==============  ===============================================  ==============
fast_sigmoid    1 / (1 + k|x|)^2    (SuperSpike, Zenke 2018)      1, ~1/k
arctan          (k/2) / (1 + (pi k x / 2)^2)  (snntorch ATan)     k/2, ~2/(pi k)
triangle        max(0, 1 - k|x|)    (Bellec 2018, piecewise lin.)  1, 1/k
straight_thr.   1 (straight-through estimator; k unused)         1, infinite
==============  ===============================================  ==============

``k`` is the slope, in the inverse of x's unit (the twin passes x in mV).

:func:`straight_through_bernoulli` is the sampler's counterpart: a Poisson
input neuron spikes in a time step with probability ``p = rate * dt``; the
sample's derivative with respect to ``p`` is zero, and the straight-through
estimate replaces it by 1, the derivative of the sample's expectation.
"""
from __future__ import annotations

import math

import torch


def _heaviside(x: torch.Tensor) -> torch.Tensor:
    # Strict: Brian2's thresholds are ``v > threshold``, so x == 0 is no spike.
    return (x > 0).to(x.dtype)


class _Spike(torch.autograd.Function):
    """Exact Heaviside forward; each subclass names its backward."""

    @staticmethod
    def forward(ctx, x, slope):
        ctx.save_for_backward(x)
        ctx.slope = slope
        return _heaviside(x)


class FastSigmoid(_Spike):
    @staticmethod
    def backward(ctx, grad):
        (x,) = ctx.saved_tensors
        return grad / (1.0 + ctx.slope * x.abs()) ** 2, None


class ATan(_Spike):
    @staticmethod
    def backward(ctx, grad):
        (x,) = ctx.saved_tensors
        k = ctx.slope
        return grad * (k / 2) / (1.0 + (math.pi / 2 * k * x) ** 2), None


class Triangle(_Spike):
    @staticmethod
    def backward(ctx, grad):
        (x,) = ctx.saved_tensors
        return grad * (1.0 - ctx.slope * x.abs()).clamp(min=0.0), None


class StraightThrough(_Spike):
    @staticmethod
    def backward(ctx, grad):
        return grad, None


class StraightThroughBernoulli(torch.autograd.Function):
    @staticmethod
    def forward(ctx, p, generator):
        # Clamped so that an attack's iterate slightly outside [0, 1] still
        # samples; the gradient is passed straight through regardless.
        return torch.bernoulli(p.clamp(0.0, 1.0), generator=generator)

    @staticmethod
    def backward(ctx, grad):
        return grad, None


SURROGATES = {"fast_sigmoid": FastSigmoid, "arctan": ATan, "triangle": Triangle, "straight_through": StraightThrough}


def get_surrogate(name: str, slope: float = 1.0):
    """``spike(x)``: exact Heaviside(x > 0) forward, the named surrogate backward."""
    if name not in SURROGATES:
        raise ValueError(f"unknown surrogate {name!r}; choose one of {', '.join(SURROGATES)}")
    if not slope > 0:
        raise ValueError(f"surrogate slope must be > 0, got {slope!r}")
    fn = SURROGATES[name].apply
    slope = float(slope)

    def spike(x: torch.Tensor) -> torch.Tensor:
        return fn(x, slope)

    spike.__name__ = f"{name}(slope={slope:g})"
    return spike


def straight_through_bernoulli(p: torch.Tensor, generator: torch.Generator | None = None) -> torch.Tensor:
    """A Bernoulli(p) sample (0/1, dtype of ``p``) whose gradient w.r.t. ``p`` is taken as 1."""
    return StraightThroughBernoulli.apply(p, generator)
