#!/usr/bin/python3
"""Test helper for test/convert.test.ts: writes checkpoints in the official ytaek-oh/daso layout and compares two .pth
files bit for bit. Not a converter: it builds the layout the way the official code does, independently of
scripts/convert_official.py.

  make OUT.pth --config cfg.json --seed S [--steps N] [--dump DUMP.safetensors] [--nan TENSOR] [--numpy-meta]
       [--no-ema] [--drop-momentum K] [--extra-head] [--evil]
  features OFFICIAL.pth IMAGES.safetensors OUT.safetensors --config cfg.json   (see features())
  compare A.pth B.pth     exit 0 when equal (keys, order, dtypes, shapes, bits, plain values), else 1 with the first
                          difference
"""
from __future__ import annotations

import argparse
import copy
import json
import math
import os
import sys

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F
from torch.optim.lr_scheduler import _LRScheduler

ROOT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..")
sys.path.insert(0, os.path.join(ROOT, "scripts"))
import safetensors_io as st  # noqa: E402
from torch_reference import Model, check_config  # noqa: E402


class Evil:
    """Unpickling this runs print(): stands for any code a hostile pickle could run."""

    def __reduce__(self):
        return (print, ("PWNED by unpickling",))


class EMAModel(nn.Module):
    """lib/models/ema_model.py (without its weight decay, which is 0 in the official configs)."""

    def __init__(self, model, ema_decay):
        super().__init__()
        self.ema_model = copy.deepcopy(model)
        for p in self.ema_model.parameters():
            p.requires_grad_(False)
        self.ema_decay = ema_decay

    def update(self, model, step):
        d = min(1 - 1 / (step + 1), self.ema_decay)
        for e, p in zip(self.ema_model.parameters(), model.parameters()):
            e.data = d * e.data + (1 - d) * p.data
        for e, p in zip(self.ema_model.buffers(), model.buffers()):
            e.data = d * e.data + (1 - d) * p.data


class WarmupCosineLRFixMatch(_LRScheduler):
    """lib/solver/scheduler.py (the state_dict fields are what matter here)."""

    def __init__(self, optimizer, max_iters, warmup_factor=0.001, warmup_iters=1000, warmup_method="linear", cos_lr_ratio=7,
                 last_epoch=-1):
        self.max_iters, self.warmup_factor, self.warmup_iters = max_iters, warmup_factor, warmup_iters
        self.warmup_method, self.cos_lr_ratio = warmup_method, cos_lr_ratio
        super().__init__(optimizer, last_epoch)

    def get_lr(self):
        f = 1.0 if self.last_epoch >= self.warmup_iters else self.warmup_factor * (1 - self.last_epoch / self.warmup_iters) + self.last_epoch / self.warmup_iters
        return [b * f * math.cos(self.cos_lr_ratio * math.pi * self.last_epoch / (16 * self.max_iters)) for b in self.base_lrs]


def make(a):
    cfg = check_config(json.load(open(a.config)))
    mc, o = cfg["model"], cfg["optim"]
    torch.manual_seed(a.seed)
    model = Model(mc)
    if a.extra_head:
        model.abc_classifier = nn.Linear(model.encoder.out_features, mc["num_classes"])
    opt = torch.optim.SGD(model.parameters(), lr=o["lr"], momentum=o["momentum"], weight_decay=o["weight_decay"], nesterov=o["nesterov"])
    sched = WarmupCosineLRFixMatch(opt, cfg["max_iter"], warmup_iters=4)
    ema = EMAModel(model, cfg["ema_decay"])
    model.train()
    for it in range(a.steps):
        x = torch.randn(4, mc["in_channels"], mc["image_size"], mc["image_size"])
        y = torch.randint(0, mc["num_classes"], (4,))
        loss = F.cross_entropy(model(x), y)
        opt.zero_grad()
        loss.backward()
        opt.step()
        sched.step()
        ema.update(model, it)
    osd = opt.state_dict()
    for i in range(a.drop_momentum):
        del osd["state"][i]
    top1 = [10.0 + i for i in range(a.steps)]
    med = np.median(top1) if a.numpy_meta else float(np.median(top1))
    meta = {"iter": a.steps, "valid/top1": top1[-1], "valid/top1_best": max(top1), "valid/top1_median20": med}
    ck = {
        "model": model.state_dict(),
        "ema_model": None if a.no_ema else ema.state_dict(),
        "optimizer": osd,
        "scheduler": sched.state_dict(),
        "meta": meta,
    }
    if a.evil:
        meta["note"] = Evil()
    if a.nan:
        part, key = a.nan.split("/", 1)
        sd = ck[part]
        sd[key] = sd[key].clone()
        sd[key].view(-1)[1] = float("nan")
    torch.save(ck, a.out)
    if a.dump:
        d = {"iter": np.array(a.steps, np.int64)}
        for part in ("model", "ema_model"):
            if ck[part] is not None:
                for k, v in ck[part].items():
                    d[f"{part}/{k}"] = v.numpy().copy()
        for i, s in ck["optimizer"]["state"].items():
            d[f"momentum/{i}"] = s["momentum_buffer"].numpy().copy()
        st.write_file(a.dump, d)
    print(f"wrote {a.out}")


def diff(a, b, where="") -> str | None:
    if type(a) is not type(b):
        return f"{where}: {type(a).__name__} vs {type(b).__name__}"
    if isinstance(a, torch.Tensor):
        if a.dtype != b.dtype or a.shape != b.shape:
            return f"{where}: {a.dtype} {list(a.shape)} vs {b.dtype} {list(b.shape)}"
        if a.numpy().tobytes() != b.numpy().tobytes():
            return f"{where}: values differ"
        return None
    if isinstance(a, dict):
        if list(a) != list(b):
            return f"{where}: keys {list(a)[:6]} vs {list(b)[:6]}"
        for k in a:
            r = diff(a[k], b[k], f"{where}[{k!r}]")
            if r:
                return r
        return None
    if isinstance(a, (list, tuple)):
        if len(a) != len(b):
            return f"{where}: length {len(a)} vs {len(b)}"
        for i, (x, y) in enumerate(zip(a, b)):
            r = diff(x, y, f"{where}[{i}]")
            if r:
                return r
        return None
    if isinstance(a, float) and isinstance(b, float) and math.isnan(a) and math.isnan(b):
        return None
    return None if a == b else f"{where}: {a!r} vs {b!r}"


def compare(a):
    x = torch.load(a.a, map_location="cpu")
    y = torch.load(a.b, map_location="cpu")
    r = diff(x, y)
    if r:
        print(f"differ at {r}")
        sys.exit(1)
    print("identical")


def features(a):
    """The rebuild rule's inputs, computed straight from the official file: EMA encoder features of x_lb and EMA
    predicted classes on x_ulb_w (eval mode), and per-class means of the last L features, for the test to compare."""
    cfg = check_config(json.load(open(a.config)))
    ck = torch.load(a.pth, map_location="cpu")
    model = Model(cfg["model"])
    model.load_state_dict({k[len("ema_model."):]: v for k, v in ck["ema_model"].items()})
    model.eval()
    t, _ = st.read_file(a.images)
    with torch.no_grad():
        f = model.encoder(torch.from_numpy(t["x_lb"]))
        pred = model(torch.from_numpy(t["x_ulb_w"])).argmax(1)
    y = torch.from_numpy(t["y_lb"].astype(np.int64))
    L, K = cfg["daso"]["queue_size"], cfg["model"]["num_classes"]
    protos = torch.zeros(K, f.shape[1])
    for k in range(K):
        sel = torch.where(y == k)[0][-L:]
        if len(sel):
            protos[k] = f[sel].mean(0)
    st.write_file(a.out, {"feat_lb": f.numpy(), "pred_ulb": pred.numpy().astype(np.int64), "prototypes": protos.numpy()})


def main():
    p = argparse.ArgumentParser()
    sub = p.add_subparsers(dest="cmd", required=True)
    s = sub.add_parser("make")
    s.add_argument("out")
    s.add_argument("--config", required=True)
    s.add_argument("--seed", type=int, default=1)
    s.add_argument("--steps", type=int, default=2)
    s.add_argument("--dump")
    s.add_argument("--nan", help="PART/KEY, e.g. ema_model/ema_model.encoder.init_conv.weight")
    s.add_argument("--numpy-meta", action="store_true", help="a numpy float in meta, as the official get_last_n_median gives")
    s.add_argument("--no-ema", action="store_true")
    s.add_argument("--drop-momentum", type=int, default=0)
    s.add_argument("--extra-head", action="store_true")
    s.add_argument("--evil", action="store_true", help="meta holds an object whose unpickling calls print()")
    s = sub.add_parser("features")
    s.add_argument("pth")
    s.add_argument("images")
    s.add_argument("out")
    s.add_argument("--config", required=True)
    c = sub.add_parser("compare")
    c.add_argument("a")
    c.add_argument("b")
    a = p.parse_args()
    {"make": make, "compare": compare, "features": features}[a.cmd](a)


if __name__ == "__main__":
    main()
