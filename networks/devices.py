"""The one ``--torch-device auto|cpu|cuda`` option shared by every torch command line."""
from __future__ import annotations

import argparse

import torch

CHOICES = ("auto", "cpu", "cuda")


def torch_device(name: str = "auto") -> torch.device:
    """``auto`` takes CUDA when torch sees a GPU; asking for ``cuda`` without one is an error, not a fallback."""
    if name not in CHOICES:
        raise ValueError(f"torch device must be one of {', '.join(CHOICES)}, not {name!r}")
    if name == "auto":
        name = "cuda" if torch.cuda.is_available() else "cpu"
    if name == "cuda" and not torch.cuda.is_available():
        raise ValueError("--torch-device cuda asked for, but torch sees no CUDA device: use cpu or auto")
    return torch.device(name)


def add_torch_device_option(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--torch-device", default="auto", choices=CHOICES,
                        help="where torch runs the twin, models and attacks (default: auto, CUDA when present)")
