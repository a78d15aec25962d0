"""The training loop and the test pass of the torch baselines (networks.train runs them).

Every epoch's order and random draws come from the seed and the epoch number (:func:`epoch_seed`), and
a checkpoint written within an epoch keeps its step and the torch random state, so a run cut off
anywhere continues exactly as it would have gone on. The test pass (:func:`predictions`) keeps its
predictions so far the same way.
"""
from __future__ import annotations

import math
import time
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F
from tqdm.auto import tqdm

from networks.cnn import as_images
from networks.registry import MODEL, load_checkpoint, save_checkpoint

CHECKPOINT_SECONDS = 300   # within an epoch, model.pt is also written when this long has passed since the last time


def augment(x: torch.Tensor, gen: torch.Generator | None = None) -> torch.Tensor:
    """Random 4-pixel-padded crops and horizontal flips of float NCHW images."""
    n, _, h, w = x.shape
    r = lambda hi: torch.randint(hi, (n,), generator=gen).to(x.device)  # noqa: E731
    flip = r(2).bool()
    x = torch.where(flip[:, None, None, None], x.flip(3), x)
    pad = F.pad(x, (4, 4, 4, 4))
    rows = r(9)[:, None] + torch.arange(h, device=x.device)
    cols = r(9)[:, None] + torch.arange(w, device=x.device)
    idx = torch.arange(n, device=x.device)[:, None, None]
    return pad.permute(0, 2, 3, 1)[idx, rows[:, :, None], cols[:, None, :]].permute(0, 3, 1, 2)


def epoch_seed(seed: int, epoch: int) -> int:
    return int(np.random.SeedSequence([seed, epoch]).generate_state(1)[0])


@torch.no_grad()
def predictions(model, x, batch_size: int = 500, progress: bool = False, desc: str = "testing",
                per_step: bool = False, checkpoint: Path | None = None, key=None) -> torch.Tensor:
    """Predicted classes of ``model`` for uint8 images ``x``: (N,), or with ``per_step`` (N, T), those of the
    same spiking net with T = 1..T. With ``checkpoint``, the predictions so far and the torch random state
    are saved there after every batch, and a pass cut off resumes from them exactly (Poisson draws
    included) when ``key`` matches; the caller removes the file when done."""
    model.eval()
    device = next(model.parameters()).device
    preds, start = [], 0
    if checkpoint is not None and Path(checkpoint).exists():
        saved = load_checkpoint(checkpoint)
        if saved.get("key") == key:
            preds, start = list(saved["preds"]), len(saved["preds"])
            torch.set_rng_state(saved["rng"])
    ks = range(0, len(x), batch_size)
    for k in tqdm(ks[start:], desc=desc, disable=not progress, dynamic_ncols=True, initial=start, total=len(ks)):
        xb = x[k:k + batch_size].to(device)
        preds.append((model(xb, per_step=True).argmax(2) if per_step else model(xb).argmax(1)).cpu())
        if checkpoint is not None:
            save_checkpoint(checkpoint, {"key": key, "preds": preds, "rng": torch.get_rng_state()})
    return torch.cat(preds)


def evaluate(model, x, y, batch_size: int = 500, progress: bool = False, desc: str = "testing", **resume):
    """(accuracy, predictions) of ``model`` on uint8 images ``x``; ``resume``: see predictions."""
    pred = predictions(model, x, batch_size, progress, desc, **resume)
    return float((pred == y).float().mean()), pred


def evaluate_per_step(model, x, y, batch_size: int = 500, progress: bool = False, desc: str = "testing", **resume):
    """(accuracy, {t: accuracy of the same net with T = t}) of a SpikingNet on uint8 images ``x``, one pass;
    t runs over powers of two and T."""
    pred = predictions(model, x, batch_size, progress, desc, per_step=True, **resume)
    right = (pred == y[:, None]).float().mean(0)
    steps = sorted({2 ** k for k in range(model.T.bit_length()) if 2 ** k <= model.T} | {model.T})
    return float(right[-1]), {t: float(right[t - 1]) for t in steps}


# --- training --------------------------------------------------------------
def learning_rate(args, step: int, total: int) -> float:
    """The learning rate at ``step`` of ``total`` training steps."""
    if args.schedule == "cosine":
        return 0.5 * args.lr * (1 + math.cos(math.pi * step / total))
    progress = step / total
    if progress < args.warmup:
        return args.lr * progress / args.warmup
    return args.lr * (1 - progress) / (1 - args.warmup)


def make_optimizer(args, model) -> torch.optim.Optimizer:
    if args.optimizer == "sgd":
        return torch.optim.SGD(model.parameters(), lr=args.lr, momentum=args.momentum, nesterov=True,
                               weight_decay=args.weight_decay)
    return torch.optim.Adam(model.parameters(), lr=args.lr, weight_decay=args.weight_decay)


def channels_last(args, model) -> bool:
    """bf16 runs keep conv tensors channels-last (NHWC): oneDNN's fast bf16 kernels want that layout."""
    return args.precision == "bf16" and any(isinstance(m, torch.nn.Conv2d) for m in model.layers)


def train(args, model, x, y, state: dict, run_dir: Path, progress: bool = True) -> dict:
    """Run the epochs still to do from ``state`` (a loaded or fresh checkpoint)."""
    device = args.device
    nhwc = channels_last(args, model)
    if nhwc:
        model.to(memory_format=torch.channels_last)
    opt = make_optimizer(args, model)
    if state.get("optimizer"):
        opt.load_state_dict(state["optimizer"])
    x, y = x.to(device), y.to(device)
    steps = math.ceil(len(x) / args.batch_size)
    use_augment = args.dset == "cifar10" and not args.no_augment
    autocast = torch.autocast(device.type, dtype=torch.bfloat16, enabled=args.precision == "bf16")
    for epoch in range(state["epoch"], args.epochs):
        torch.manual_seed(epoch_seed(args.seed, epoch))
        order = torch.as_tensor(np.random.default_rng([args.seed, epoch]).permutation(len(x)), device=device)
        model.train()
        first = state.pop("step", 0)    # a checkpoint from within this epoch: go on from its step
        tot_loss, tot_right, seen, before = state.pop("partial", (0.0, 0, 0, 0.0))
        if first:
            torch.set_rng_state(state.pop("rng"))
        t0 = last_save = time.perf_counter()
        bar = tqdm(range(first, steps), desc=f"{args.net} epoch {epoch + 1}/{args.epochs}", disable=not progress,
                   dynamic_ncols=True, initial=first, total=steps)
        for k in bar:
            lr = learning_rate(args, epoch * steps + k, args.epochs * steps)
            for group in opt.param_groups:
                group["lr"] = lr
            idx = order[k * args.batch_size:(k + 1) * args.batch_size]
            xb = as_images(x[idx], model.in_shape)
            if use_augment:
                xb = augment(xb)
            if nhwc:
                xb = xb.contiguous(memory_format=torch.channels_last)
            with autocast:
                loss, logits = model.training_loss(xb, y[idx], label_smoothing=args.label_smoothing)
            opt.zero_grad(set_to_none=True)
            loss.backward()
            opt.step()
            tot_loss += loss.item() * len(idx)
            tot_right += int((logits.argmax(1) == y[idx]).sum())
            seen += len(idx)
            bar.set_postfix(loss=f"{tot_loss / seen:.4f}", acc=f"{tot_right / seen:.4f}")
            if k + 1 < steps and time.perf_counter() - last_save >= CHECKPOINT_SECONDS:   # within a long epoch
                save_checkpoint(run_dir / MODEL, {
                    **state, "model": model.state_dict(), "optimizer": opt.state_dict(), "step": k + 1,
                    "rng": torch.get_rng_state(), "partial": (tot_loss, tot_right, seen, before + time.perf_counter() - t0)})
                last_save = time.perf_counter()
        bar.close()
        seconds = before + time.perf_counter() - t0
        state["history"].append({"epoch": epoch + 1, "loss": tot_loss / seen, "train_accuracy": tot_right / seen,
                                 "seconds": seconds})
        state.update(epoch=epoch + 1, model=model.state_dict(), optimizer=opt.state_dict(),
                     train_seconds=state["train_seconds"] + seconds)
        save_checkpoint(run_dir / MODEL, state)
    if nhwc:   # tested, attacked and saved in the default layout
        model.to(memory_format=torch.contiguous_format)
    return state
