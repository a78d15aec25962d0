"""Conv nets shared by the ANN baseline, the surrogate SNN and the converted SNN.

An architecture is a string of layers joined by '-': ``cN`` a 3x3 conv with N
channels (padding 1), ``cNb`` the same followed by batch norm (the conv then
has no bias: the norm's shift is its bias), ``p`` a 2x2 average pool, ``fN`` a
fully connected layer of N units; the output layer (n_classes units) is
appended. Average pooling (not max), ReLU and optional biases keep the nets
convertible to spiking ones: a mean of spike rates is the rate of the mean.
Batch norm is an affine map per channel at evaluation, so :func:`fold_batchnorm`
folds it into the conv before conversion (exactly, up to rounding).

    ARCHS["mnist"]  small net for 28x28 grayscale, ~99% on MNIST
    ARCHS["cifar"]  the CPU net for CIFAR-10 (batch norm, 8 weight layers; README)
    ARCHS["vgg9"]   VGG-9 of Sharmin et al. (7 conv + 2 fc) for CIFAR-10: the GPU configuration

Every model here and in :mod:`networks.snn` takes images in [0, 1] (float,
differentiable) or uint8 in 0..255, as (N, H, W), (N, C, H, W) or (N, H, W, C),
and returns class logits. With ``on_off=True`` the first (conv) layer reads 2C
channels, the image and its complement (:func:`networks.conv_stdp.on_off`: what
conv STDP learns its filters on; seed 000's SNN + STDP, networks.stdp_net).
"""
from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

from networks.conv_stdp import on_off as on_off_channels

ARCHS = {
    "mnist": "c32-p-c64-p-f256",
    "cifar": "c64b-p-c128b-c128b-p-c256b-c256b-p-c256b-p",
    "vgg9": "c64-c64-p-c128-c128-p-c256-c256-c256-p-f1024",
}
DEFAULT_ARCH = {"mnist": "mnist", "fashion": "mnist", "cifar10": "cifar"}
IN_SHAPE = {"mnist": (1, 28, 28), "fashion": (1, 28, 28), "cifar10": (3, 32, 32)}


def as_images(x, in_shape) -> torch.Tensor:
    """Float NCHW images in [0, 1]; keeps the autograd graph of a float input."""
    x = torch.as_tensor(x)
    if x.dtype == torch.uint8:
        x = x.float() / 255.0
    c, h, w = in_shape
    if x.ndim == 3 and c == 1:
        x = x.unsqueeze(1)
    elif x.ndim == 4 and x.shape[1] != c and x.shape[3] == c:
        x = x.permute(0, 3, 1, 2)
    if tuple(x.shape[1:]) != (c, h, w):
        raise ValueError(f"expected images of shape {(c, h, w)} (or HWC), got {tuple(x.shape)}")
    return x


class Backbone(nn.Module):
    """The weight layers of an architecture; subclasses choose the neuron.

    ``layers[i]`` is the i-th weight layer, ``norms[i]`` its batch norm (an
    Identity where the architecture has none); ``pool_after[i]`` says whether a
    2x2 average pool follows its nonlinearity; the first Linear flattens.
    Dropout acts on the hidden fc layers only. ``on_off``: layer 0 is a conv
    that reads the input's ON and OFF channels (2C), with a bias.
    """

    def __init__(self, arch: str = "mnist", in_shape=(1, 28, 28), n_classes: int = 10,
                 bias: bool = False, dropout: float = 0.0, on_off: bool = False):
        super().__init__()
        self.arch, self.in_shape, self.n_classes = ARCHS.get(arch, arch), tuple(in_shape), n_classes
        self.dropout = float(dropout)
        self.on_off = bool(on_off)
        self.layers, self.norms, self.pool_after = nn.ModuleList(), nn.ModuleList(), []
        c, h, w = self.in_shape
        flat = None
        for tok in self.arch.split("-"):
            kind, n = tok[0], tok[1:]
            if kind == "p":
                if not self.layers or self.pool_after[-1] or flat is not None:
                    raise ValueError(f"bad architecture {self.arch!r}: a pool must follow a conv layer")
                self.pool_after[-1] = True
                h, w = h // 2, w // 2
            elif kind == "c" and n.rstrip("b").isdigit() and n.count("b") <= 1 and flat is None:
                norm = n.endswith("b")
                c_out = int(n.rstrip("b"))
                self.layers.append(nn.Conv2d(c, c_out, 3, padding=1, bias=bias and not norm))
                self.norms.append(nn.BatchNorm2d(c_out) if norm else nn.Identity())
                self.pool_after.append(False)
                c = c_out
            elif kind == "f" and n.isdigit():
                flat = flat or c * h * w
                self.layers.append(nn.Linear(flat, int(n), bias=bias))
                self.norms.append(nn.Identity())
                self.pool_after.append(False)
                flat = int(n)
            else:
                raise ValueError(f"bad architecture {self.arch!r}: cannot read layer {tok!r}")
        self.layers.append(nn.Linear(flat or c * h * w, n_classes, bias=bias))
        self.norms.append(nn.Identity())
        self.pool_after.append(False)
        for m in self.layers:
            nn.init.kaiming_normal_(m.weight, nonlinearity="relu")
            if m.bias is not None:
                nn.init.zeros_(m.bias)
        if self.on_off:
            self._read_on_off()

    def _read_on_off(self) -> None:
        """Replace layer 0 by a conv on 2C channels. Done after the layers above are initialised, so
        they draw the same initial weights as those of a net without ON/OFF input (and STDP nets made
        before this option existed, which replaced their layer 0 the same way, keep their weights)."""
        first = self.layers[0]
        if not isinstance(first, nn.Conv2d):
            raise ValueError(f"on_off needs a conv first layer; {self.arch!r} starts with an fc layer")
        self.layers[0] = nn.Conv2d(2 * first.in_channels, first.out_channels, first.kernel_size,
                                   padding=first.padding, bias=True)

    @property
    def n_hidden(self) -> int:
        return len(self.layers) - 1

    @property
    def has_batchnorm(self) -> bool:
        return any(isinstance(m, nn.BatchNorm2d) for m in self.norms)

    def weight_input(self, i: int, h: torch.Tensor) -> torch.Tensor:
        """Layer i (and its batch norm) applied to the previous layer's (pooled) output."""
        layer = self.layers[i]
        if i == 0 and self.on_off:
            h = on_off_channels(h)
        if isinstance(layer, nn.Linear) and h.ndim > 2:
            h = h.flatten(1)
        return self.norms[i](layer(h))

    def after(self, i: int, h: torch.Tensor, mask=None) -> torch.Tensor:
        """What layer i passes on: pooled, or (fc) times a dropout mask."""
        if self.pool_after[i]:
            return F.avg_pool2d(h, 2)
        return h if mask is None else h * mask

    def dropout_masks(self, batch: int, like: torch.Tensor) -> list:
        """One mask per hidden layer (None: none), drawn once per forward so a
        spiking net drops the same units at every time step."""
        if not (self.training and self.dropout > 0):
            return [None] * self.n_hidden
        keep = 1.0 - self.dropout
        return [torch.bernoulli(like.new_full((batch, m.out_features), keep)) / keep
                if isinstance(m, nn.Linear) else None for m in self.layers[:-1]]

    def training_loss(self, x, y, label_smoothing: float = 0.0):
        """(loss, logits) for one batch; models with extra loss terms override it."""
        logits = self(x)
        return F.cross_entropy(logits.float(), y, label_smoothing=label_smoothing), logits


class CNN(Backbone):
    """The ANN: ReLU after every hidden layer.

    ``forward(x, record=True)`` returns (logits, rec) with rec["input"] the
    images (N, C, H, W) and rec[f"act.{i}"] layer i's ReLU output before pooling.
    """

    def forward(self, x, record: bool = False):
        h = as_images(x, self.in_shape)
        rec = {"input": h}
        masks = self.dropout_masks(len(h), h)
        for i in range(self.n_hidden):
            a = F.relu(self.weight_input(i, h))
            if record:
                rec[f"act.{i}"] = a
            h = self.after(i, a, masks[i])
        logits = self.weight_input(self.n_hidden, h)
        return (logits, rec) if record else logits


def without_batchnorm(arch: str) -> str:
    """The architecture spec with every batch norm dropped (``c64b`` -> ``c64``)."""
    return "-".join(t[:-1] if t[0] == "c" and t.endswith("b") else t for t in ARCHS.get(arch, arch).split("-"))


@torch.no_grad()
def fold_batchnorm(cnn: CNN) -> CNN:
    """A CNN without batch norm that computes what ``cnn`` computes in eval mode.

    Per channel, BN(W x + b) = g (W x + b - mu) / sqrt(var + eps) + beta, so
    W' = W g / sqrt(var + eps) and b' = (b - mu) g / sqrt(var + eps) + beta.
    Every layer of the result has a bias (zero where ``cnn``'s had none and no norm), and the same input
    (``on_off``).
    """
    out = CNN(without_batchnorm(cnn.arch), cnn.in_shape, cnn.n_classes, bias=True, dropout=cnn.dropout,
              on_off=cnn.on_off)
    out = out.to(next(cnn.parameters()).device)
    for dst, src, norm in zip(out.layers, cnn.layers, cnn.norms):
        w = src.weight
        b = src.bias if src.bias is not None else torch.zeros_like(dst.bias)
        if isinstance(norm, nn.BatchNorm2d):
            g = norm.weight / torch.sqrt(norm.running_var + norm.eps)
            w = w * g.view(-1, 1, 1, 1)
            b = (b - norm.running_mean) * g + norm.bias
        dst.weight.copy_(w)
        dst.bias.copy_(b)
    return out.eval()
