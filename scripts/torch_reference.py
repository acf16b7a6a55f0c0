#!/usr/bin/python3
"""PyTorch reference for one training step of daso-webgpu, written as safetensors golden files.

  /usr/bin/python3 scripts/torch_reference.py supervised --config cfg.json --seed S --batch-size B --out-dir DIR
        [--step T] [--dtype f32|f64] [--kink-margin M]
  /usr/bin/python3 scripts/torch_reference.py compare A/expected.safetensors B/expected.safetensors

Needs Debian's python3-torch (1.13, CPU) and numpy; no PyPI. See scripts/README-parity.md.

`supervised` writes
  DIR/checkpoint.safetensors  the INPUT state at step t (default 7):
      model.<state_dict name>    every parameter and buffer (BN running_mean/var F32, num_batches_tracked I64 = t)
      ema.<state_dict name>      EMA model = model + 0.01*N(0,1) on every float entry; num_batches_tracked I64 = t
      optim.momentum.<param>     SGD momentum buffers, 0.01*N(0,1) (F32) so that Nesterov with an existing buffer is
                                 exercised. A fresh run starts from zeros: PyTorch's first step sets buf = d (clone),
                                 which equals 0.9*0 + d, so zero-initialised buffers reproduce it exactly.
      step                       I64 [] = t
    The model is the official init (kaiming fan_out convs, xavier classifier) with BN weight 1+0.1*N, BN bias 0.1*N,
    classifier bias 0.1*N, running_mean 0.1*N, running_var U(0.5, 1.5), so that no term is trivially 0 or 1.
  DIR/batch.safetensors       x_lb F32 [B,C,H,W] ~ N(0,1), y_lb I64 [B] uniform in [0, K)
  DIR/expected.safetensors    after ONE step exactly as the official code (lib/algorithm + lib/models/ema_model.py):
      model.train(); logits = classifier(encoder(x)); loss = CE(logits, y).mean(); loss.backward();
      SGD(lr, momentum, nesterov, weight_decay) with the preloaded momentum buffers; then EMA update with
      d = min(1 - 1/(t+1), ema_decay): ema = d*ema + (1-d)*online for every parameter AND every buffer.
      model.*, ema.*, optim.momentum.*, step (= t+1), out.logits_lb [B,K], out.loss [], grad.<param> (p.grad, before
      weight decay).
  All floating outputs are F32 (with --dtype f64 the step is computed in float64 from the same F32 inputs and
  rounded to F32 at the end; use `compare` to measure the float32 error).

EMA of num_batches_tracked (PyTorch 1.13.0, checked): the official update `emp_p.data = d * emp_p.data + (1 - d) * p.data`
multiplies an int64 buffer by a Python float, which promotes to the default float dtype (float32), and assigning `.data`
changes the buffer's dtype: after the first EMA update the EMA's num_batches_tracked is a float32 tensor holding a
fractional value (0.875*7 + 0.125*8 = 7.125 at t = 7). We store exactly that value, as F32, in expected.safetensors
(`ema.*.num_batches_tracked`); the input checkpoint has it as I64 (a fresh EMA is a deep copy: int64). The value is
never used by training (BN momentum is 0.1, not None).
"""
from __future__ import annotations

import argparse
import json
import os
import sys

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import safetensors_io as st  # noqa: E402

# ---------------------------------------------------------------------------------------------------------------------
# Model: the official lib/models/wrn.py and lib/models/classifier.py, generalised to depth d (n = (d-4)/6 blocks per
# stage), in_channels, and flatten(1) instead of squeeze() (B = 1 keeps its batch dimension; identical for B > 1).


def conv3x3(i_c, o_c, stride=1):
    return nn.Conv2d(i_c, o_c, 3, stride, 1, bias=False)


def relu():
    return nn.LeakyReLU(0.1)


class residual(nn.Module):  # noqa: N801 (official name)
    def __init__(self, input_channels, output_channels, stride=1, activate_before_residual=False):
        super().__init__()
        layer = []
        if activate_before_residual:
            self.pre_act = nn.Sequential(nn.BatchNorm2d(input_channels), relu())
        else:
            self.pre_act = nn.Identity()
            layer.append(nn.BatchNorm2d(input_channels))
            layer.append(relu())
        layer.append(conv3x3(input_channels, output_channels, stride))
        layer.append(nn.BatchNorm2d(output_channels))
        layer.append(relu())
        layer.append(conv3x3(output_channels, output_channels))
        if stride >= 2 or input_channels != output_channels:
            self.identity = nn.Conv2d(input_channels, output_channels, 1, stride, bias=False)
        else:
            self.identity = nn.Identity()
        self.layer = nn.Sequential(*layer)

    def forward(self, x):
        x = self.pre_act(x)
        return self.identity(x) + self.layer(x)


class WRN(nn.Module):
    def __init__(self, width: int, num_classes: int = 10, depth: int = 28, in_channels: int = 3) -> None:
        super().__init__()
        if depth < 10 or (depth - 4) % 6 != 0:
            raise ValueError(f"WRN depth must be 6n+4 with n >= 1, got {depth}")
        n = (depth - 4) // 6
        self.init_conv = conv3x3(in_channels, 16)
        filters = [16, 16 * width, 32 * width, 64 * width]
        self.unit1 = nn.Sequential(
            *([residual(filters[0], filters[1], activate_before_residual=True)] + [residual(filters[1], filters[1]) for _ in range(1, n)])
        )
        self.unit2 = nn.Sequential(*([residual(filters[1], filters[2], 2)] + [residual(filters[2], filters[2]) for _ in range(1, n)]))
        self.unit3 = nn.Sequential(*([residual(filters[2], filters[3], 2)] + [residual(filters[3], filters[3]) for _ in range(1, n)]))
        self.unit4 = nn.Sequential(*[nn.BatchNorm2d(filters[3]), relu(), nn.AdaptiveAvgPool2d(1)])
        self.num_classes = num_classes
        self.out_features = filters[3]
        for m in self.modules():
            if isinstance(m, nn.Conv2d):
                nn.init.kaiming_normal_(m.weight, mode="fan_out", nonlinearity="relu")
            elif isinstance(m, nn.BatchNorm2d):
                nn.init.constant_(m.weight, 1)
                nn.init.constant_(m.bias, 0)
            elif isinstance(m, nn.Linear):
                nn.init.xavier_normal_(m.weight)
                nn.init.constant_(m.bias, 0)

    def forward(self, x):
        x = self.init_conv(x)
        x = self.unit1(x)
        x = self.unit2(x)
        x = self.unit3(x)
        f = self.unit4(x)
        return f.flatten(1)


class Classifier(nn.Module):
    def __init__(self, in_features: int, out_features: int, *, bias: bool = True) -> None:
        super().__init__()
        self.classifier = nn.Linear(in_features, out_features, bias=bias)
        for m in self.classifier.modules():
            if isinstance(m, nn.Linear):
                nn.init.xavier_normal_(m.weight)
                nn.init.constant_(m.bias, 0)

    def forward(self, x):
        return self.classifier(x)


class Model(nn.Module):
    def __init__(self, mc: dict) -> None:
        super().__init__()
        self.encoder = WRN(mc["width"], mc["num_classes"], mc["depth"], mc["in_channels"])
        self.classifier = Classifier(self.encoder.out_features, mc["num_classes"])

    def forward(self, x):
        return self.classifier(self.encoder(x))


# ---------------------------------------------------------------------------------------------------------------------
# Config (shared with the TS CLI `daso step`; unknown keys are errors. `algorithm`, `model`, `optim`, `ema_decay` are
# required; `max_iter`, `ssl` and `daso` take CONFIG_DEFAULTS when missing, key by key, like the TS mergeStrict.)


class NonNegInt:  # schema marker: an integer >= 0 (e.g. daso.warmup = 0)
    pass


CONFIG_SCHEMA = {
    "algorithm": str,
    "model": {"depth": int, "width": int, "in_channels": int, "num_classes": int, "image_size": int},
    "optim": {"lr": float, "momentum": float, "nesterov": bool, "weight_decay": float},
    "ema_decay": float,
    "max_iter": int,
    "ssl": {"tau": float, "lambda_u": float},
    "daso": {
        "t_proto": float,
        "t_dist": float,
        "lambda_align": float,
        "queue_size": int,
        "warmup": NonNegInt,
        "pl_update_period": int,
        "dist_aware": bool,
        "interp_alpha": float,
    },
}

CONFIG_DEFAULTS = {
    "max_iter": 250000,
    "ssl": {"tau": 0.95, "lambda_u": 1.0},
    "daso": {
        "t_proto": 0.05,
        "t_dist": 1.5,
        "lambda_align": 1.0,
        "queue_size": 256,
        "warmup": 5000,
        "pl_update_period": 100,
        "dist_aware": True,
        "interp_alpha": 0.5,
    },
}

ALGORITHMS = ("supervised", "fixmatch", "daso")


def _with_defaults(cfg, defaults):
    if not isinstance(cfg, dict):
        return cfg
    out = dict(cfg)
    for k, d in defaults.items():
        if k not in out:
            out[k] = json.loads(json.dumps(d))
        elif isinstance(d, dict) and isinstance(out[k], dict):
            out[k] = {**d, **out[k]}
    return out


def check_config(cfg, schema=CONFIG_SCHEMA, path="config"):
    if path == "config":
        cfg = _with_defaults(cfg, CONFIG_DEFAULTS)
    if not isinstance(cfg, dict):
        raise SystemExit(f"{path}: expected an object")
    unknown = sorted(set(cfg) - set(schema))
    if unknown:
        raise SystemExit(f"{path}: unknown key(s) {', '.join(unknown)} (allowed: {', '.join(schema)})")
    missing = sorted(set(schema) - set(cfg))
    if missing:
        raise SystemExit(f"{path}: missing key(s) {', '.join(missing)}")
    for k, t in schema.items():
        v = cfg[k]
        if isinstance(t, dict):
            check_config(v, t, f"{path}.{k}")
        elif t is float:
            if isinstance(v, bool) or not isinstance(v, (int, float)):
                raise SystemExit(f"{path}.{k}: expected a number, got {json.dumps(v)}")
        elif t is int:
            if isinstance(v, bool) or not isinstance(v, int) or v <= 0:
                raise SystemExit(f"{path}.{k}: expected a positive integer, got {json.dumps(v)}")
        elif t is NonNegInt:
            if isinstance(v, bool) or not isinstance(v, int) or v < 0:
                raise SystemExit(f"{path}.{k}: expected an integer >= 0, got {json.dumps(v)}")
        elif not isinstance(v, t):
            raise SystemExit(f"{path}.{k}: expected {t.__name__}, got {json.dumps(v)}")
    if path == "config":
        if cfg["algorithm"] not in ALGORITHMS:
            raise SystemExit(f"config.algorithm: {cfg['algorithm']!r} is not one of {', '.join(ALGORITHMS)}")
        sc, dc = cfg["ssl"], cfg["daso"]
        for key, v, lo, hi, lo_open in [
            ("ssl.tau", sc["tau"], 0, 1, False),
            ("ssl.lambda_u", sc["lambda_u"], 0, float("inf"), False),
            ("daso.t_proto", dc["t_proto"], 0, float("inf"), True),
            ("daso.t_dist", dc["t_dist"], 0, float("inf"), True),
            ("daso.lambda_align", dc["lambda_align"], 0, float("inf"), False),
            ("daso.interp_alpha", dc["interp_alpha"], 0, 1, False),
        ]:
            if not ((v > lo if lo_open else v >= lo) and v <= hi):
                raise SystemExit(f"config.{key} = {v} is out of range {'(' if lo_open else '['}{lo}, {hi}]")
    return cfg


# ---------------------------------------------------------------------------------------------------------------------


def to_np(t: torch.Tensor) -> np.ndarray:
    t = t.detach().cpu()
    if t.is_floating_point():
        return t.to(torch.float32).numpy().copy()
    return t.numpy().copy()


class PreActs:
    """Collects |input| of every LeakyReLU during a forward pass (spec §7 kink margin): an input closer to zero than
    the f32 error of the port can land on the other side of the kink and move whole gradient tensors."""

    def __init__(self, model: nn.Module):
        self.model, self.vals, self.hooks = model, [], []

    def __enter__(self):
        self.hooks = [
            m.register_forward_hook(lambda _m, i, _o: self.vals.append(i[0].detach().abs().flatten().double()))
            for m in self.model.modules()
            if isinstance(m, nn.LeakyReLU)
        ]
        return self

    def __exit__(self, *exc):
        for h in self.hooks:
            h.remove()

    def all(self) -> torch.Tensor:
        return torch.cat(self.vals)


def kink_margin_f64(cfg: dict, model_sd, x) -> float:
    """min |LeakyReLU input| of the train-mode forward pass computed in float64."""
    m = Model(cfg["model"]).double()
    m.load_state_dict(model_sd)
    m.train()
    with torch.no_grad(), PreActs(m) as pre:
        m.encoder(x.double())
    return float(pre.all().min())


def make_inputs(cfg: dict, seed: int, batch: int, step: int):
    """Everything in float32 from one seed: model, EMA, momentum buffers, batch."""
    mc = cfg["model"]
    torch.manual_seed(seed)
    model = Model(mc)
    g = torch.Generator().manual_seed(seed + 1_000_003)

    def randn(shape, scale=1.0):
        return torch.randn(shape, generator=g) * scale

    with torch.no_grad():
        for m in model.modules():
            if isinstance(m, nn.BatchNorm2d):
                c = m.num_features
                m.weight.copy_(1 + randn(c, 0.1))
                m.bias.copy_(randn(c, 0.1))
                m.running_mean.copy_(randn(c, 0.1))
                m.running_var.copy_(torch.rand(c, generator=g) + 0.5)
                m.num_batches_tracked.fill_(step)
        model.classifier.classifier.bias.copy_(randn(mc["num_classes"], 0.1))
    model_sd = {k: v.detach().clone() for k, v in model.state_dict().items()}
    ema_sd = {k: (v + randn(v.shape, 0.01) if v.is_floating_point() else v.clone()) for k, v in model_sd.items()}
    momentum = {n: randn(p.shape, 0.01) for n, p in model.named_parameters()}
    s = mc["image_size"]
    x = randn((batch, mc["in_channels"], s, s))
    y = torch.randint(0, mc["num_classes"], (batch,), generator=g, dtype=torch.int64)
    return model_sd, ema_sd, momentum, x, y


def supervised_step(cfg: dict, model_sd, ema_sd, momentum, x, y, step: int, dtype: torch.dtype):
    mc, oc = cfg["model"], cfg["optim"]
    torch.set_default_dtype(dtype)  # the EMA's int64 -> float promotion follows the default dtype
    model = Model(mc).to(dtype)
    ema = Model(mc).to(dtype)
    model.load_state_dict(model_sd)
    ema.load_state_dict(ema_sd)
    for p in ema.parameters():
        p.requires_grad_(False)
    model.train()
    ema.train()
    x = x.to(dtype)

    # forward / backward (official: logits = classifier(encoder(x)); loss = CE mean)
    with PreActs(model) as pre:
        logits = model.classifier(model.encoder(x))
    allpre = pre.all()
    kink = {
        "kink_min_abs_preact": f"{float(allpre.min()):.3e}",
        "kink_count_below_1e-5": str(int((allpre < 1e-5).sum())),
        "kink_count_below_1e-4": str(int((allpre < 1e-4).sum())),
        "preact_count": str(allpre.numel()),
    }
    loss = F.cross_entropy(logits, y, reduction="mean")
    model.zero_grad(set_to_none=True)
    loss.backward()
    grads = {n: p.grad.detach().clone() for n, p in model.named_parameters()}

    # SGD, all parameters, momentum buffers preloaded
    opt = torch.optim.SGD(
        model.parameters(), lr=oc["lr"], momentum=oc["momentum"], nesterov=oc["nesterov"], weight_decay=oc["weight_decay"]
    )
    for n, p in model.named_parameters():
        opt.state[p]["momentum_buffer"] = momentum[n].to(dtype).clone()
    opt.step()
    new_momentum = {n: opt.state[p]["momentum_buffer"].detach().clone() for n, p in model.named_parameters()}

    # EMA update exactly as lib/models/ema_model.py::EMAModel.update (ema_weight_decay = 0 -> no-op)
    d = min(1 - 1 / (step + 1), cfg["ema_decay"])
    with torch.no_grad():
        for emp_p, p in zip(ema.parameters(), model.parameters()):
            emp_p.data = d * emp_p.data + (1 - d) * p.data
        for emp_p, p in zip(ema.buffers(), model.buffers()):
            emp_p.data = d * emp_p.data + (1 - d) * p.data
    torch.set_default_dtype(torch.float32)

    out = {}
    for k, v in model.state_dict().items():
        out[f"model.{k}"] = to_np(v)
    for k, v in ema.state_dict().items():
        out[f"ema.{k}"] = to_np(v)  # num_batches_tracked arrives here as float (see module docstring) -> F32
    for n, v in new_momentum.items():
        out[f"optim.momentum.{n}"] = to_np(v)
    for n, v in grads.items():
        out[f"grad.{n}"] = to_np(v)
    out["step"] = np.array(step + 1, np.int64)
    out["out.logits_lb"] = to_np(logits)
    out["out.loss"] = to_np(loss)
    return out, d, kink


def cmd_supervised(a):
    with open(a.config) as f:
        raw = json.load(f)
    cfg = check_config(raw)
    if cfg["algorithm"] != "supervised":
        raise SystemExit(f"config.algorithm is {cfg['algorithm']!r}; the 'supervised' command needs 'supervised'")
    if a.batch_size < 1 or a.step < 0:
        raise SystemExit("--batch-size must be >= 1 and --step >= 0")
    torch.set_num_threads(1)  # reproducible bytes on regeneration
    torch.use_deterministic_algorithms(True)
    dtype = {"f32": torch.float32, "f64": torch.float64}[a.dtype]
    model_sd, ema_sd, momentum, x, y = make_inputs(cfg, a.seed, a.batch_size, a.step)
    redraws = 0
    if a.kink_margin > 0:
        # Redraw x_lb only (model, EMA, momentum and y_lb unchanged) until every LeakyReLU input of the float64
        # forward pass is at least --kink-margin away from 0, so an f32 port cannot cross the kink (spec §7).
        gx = torch.Generator().manual_seed(a.seed + 2_000_029)
        while kink_margin_f64(cfg, model_sd, x) < a.kink_margin:
            redraws += 1
            if redraws > 200:
                raise SystemExit(f"no batch with kink margin {a.kink_margin} in 200 draws; lower --kink-margin")
            x = torch.randn(x.shape, generator=gx)
    out, d, kink = supervised_step(cfg, model_sd, ema_sd, momentum, x, y, a.step, dtype)

    meta = {
        "generator": "scripts/torch_reference.py supervised",
        "config": json.dumps(raw, sort_keys=True, separators=(",", ":")),  # as given (missing sections: defaults)
        "seed": str(a.seed),
        "batch_size": str(a.batch_size),
        "step": str(a.step),
        "torch": torch.__version__,
        "kink_margin_requested": repr(a.kink_margin),
        "x_lb_redraws": str(redraws),
    }
    os.makedirs(a.out_dir, exist_ok=True)
    ckpt = {f"model.{k}": to_np(v) for k, v in model_sd.items()}
    ckpt.update({f"ema.{k}": to_np(v) for k, v in ema_sd.items()})
    ckpt.update({f"optim.momentum.{n}": to_np(v) for n, v in momentum.items()})
    ckpt["step"] = np.array(a.step, np.int64)
    sizes = {
        "checkpoint": st.write_file(os.path.join(a.out_dir, "checkpoint.safetensors"), ckpt, meta),
        "batch": st.write_file(os.path.join(a.out_dir, "batch.safetensors"), {"x_lb": to_np(x), "y_lb": to_np(y)}, meta),
        "expected": st.write_file(
            os.path.join(a.out_dir, "expected.safetensors"),
            out,
            {**meta, "compute_dtype": a.dtype, "ema_decay_used": repr(d), **kink},
        ),
    }
    nparams = sum(v.size for k, v in ckpt.items() if k.startswith("optim.momentum."))
    print(
        f"{a.out_dir}: {nparams} parameters, loss {float(out['out.loss']):.6f}, ema decay {d}, "
        + ", ".join(f"{k} {v / 1e6:.2f} MB" for k, v in sizes.items())
        + f", total {sum(sizes.values()) / 1e6:.2f} MB; min |LeakyReLU input| {kink['kink_min_abs_preact']}"
        f" ({kink['kink_count_below_1e-5']} below 1e-5 of {kink['preact_count']})"
    )


def cmd_compare(a):
    """Per-group error of A (e.g. float32) against B (e.g. float64 reference). scale = max|b|, or with --base the
    largest change of that tensor in the step (max|b - base|). relL2 = |a-b|_2 / |b|_2."""
    ta, _ = st.read_file(a.a)
    tb, _ = st.read_file(a.b)
    base = st.read_file(a.base)[0] if a.base else {}
    groups: dict[str, list] = {}
    for k in sorted(set(ta) & set(tb)):
        x, r = ta[k].astype(np.float64).ravel(), tb[k].astype(np.float64).ravel()
        if x.size == 0:
            continue
        diff = np.abs(x - r)
        scale = np.abs(r).max()
        if k in base and base[k].size == r.size and not k.endswith("num_batches_tracked"):
            # updated state: measure against the size of this step's change, not of the values
            scale = np.abs(r - base[k].astype(np.float64).ravel()).max()
        g = k.split(".")[0] if not k.startswith("optim.") else "optim.momentum"
        if k.endswith(("running_mean", "running_var", "num_batches_tracked")):
            g += " (buffers)"
        rel_l2 = np.linalg.norm(x - r) / max(np.linalg.norm(r), 1e-30)
        elem_rel = (diff / np.maximum(np.abs(r), 1e-30)).max()
        groups.setdefault(g, []).append((k, diff.max(), scale, rel_l2, elem_rel))
    print(f"{'group':28s} {'max|a-b|':>10s} {'max|a-b|/scale':>16s} {'max relL2':>10s}  worst tensor (by relL2)")
    for g, rows in groups.items():
        worst = max(rows, key=lambda r: r[3])
        print(
            f"{g:28s} {max(r[1] for r in rows):10.3e} {max(r[1] / max(r[2], 1e-30) for r in rows):16.3e} "
            f"{worst[3]:10.3e}  {worst[0]}"
        )
    if a.verbose:
        for g, rows in groups.items():
            for k, dmax, scale, rl2, er in rows:
                print(f"  {k:60s} max|d| {dmax:.3e} max|b| {scale:.3e} relL2 {rl2:.3e} max elem rel {er:.3e}")


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    sub = p.add_subparsers(dest="cmd", required=True)
    s = sub.add_parser("supervised", help="one supervised step; writes checkpoint/batch/expected safetensors")
    s.add_argument("--config", required=True)
    s.add_argument("--seed", type=int, required=True)
    s.add_argument("--batch-size", type=int, required=True)
    s.add_argument("--out-dir", required=True)
    s.add_argument("--step", type=int, default=7, help="t: the step index the checkpoint is at (default 7)")
    s.add_argument("--dtype", choices=["f32", "f64"], default="f32", help="compute dtype (outputs are always F32)")
    s.add_argument(
        "--kink-margin",
        type=float,
        default=0.0,
        help="redraw x_lb until every LeakyReLU input (float64 forward) is at least this far from 0 (default 0: off)",
    )
    c = sub.add_parser("compare", help="error of expected file A against expected file B")
    c.add_argument("a")
    c.add_argument("b")
    c.add_argument("--base", help="the input checkpoint: scale errors of updated state by the step's change")
    c.add_argument("-v", "--verbose", action="store_true")
    a = p.parse_args(argv)
    {"supervised": cmd_supervised, "compare": cmd_compare}[a.cmd](a)


if __name__ == "__main__":
    main()
