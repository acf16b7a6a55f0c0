#!/usr/bin/python3
"""PyTorch reference for one training step of daso-webgpu, written as safetensors golden files.

  /usr/bin/python3 scripts/torch_reference.py supervised --config cfg.json --seed S --batch-size B --out-dir DIR
        [--step T] [--dtype f32|f64] [--kink-margin M]
  /usr/bin/python3 scripts/torch_reference.py fixmatch|daso --config cfg.json --seed S --batch-size B --ulb-batch-size BU
        --out-dir DIR [--step T] [--steps N] [--dtype f32|f64] [--kink-margin M] [--margin 1e-3] [--classifier-scale F]
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
  Logit adjustment (config `logit_adjust`, as `daso step` reads it): logits_lb + tau * log(class_counts / sum) in the
  labeled CE only (the adjustment rounded to F32 once, as src/train/step-config.ts does); out.logits_lb are then the
  adjusted logits. Supervised expected files hold out.loss only (no loss parts; the total is the classification loss).

`fixmatch` / `daso` (one step of lib/algorithm/{fixmatch,daso}.py + lib/models/daso_model.py, spec §1.2/§1.5/§7) write
  the same three files. checkpoint: as above (the classifier weight of model and EMA multiplied by --classifier-scale,
    so that some rows are confident), plus for daso
      daso.queue F32 [K,L,D]  each class's entries OLDEST FIRST in rows 0..len-1, zeros after
      daso.queue_len I64 [K], daso.prototypes F32 [K,D] (mean of each queue; zeros for empty ones),
      daso.pl_hist I64 [K] (histogram in force, >= 1 zero class), daso.pl_window I64 [K] (counts since the last refresh)
    Queue roles: of the classes in y_lb (exactly 3 distinct), one pushes into an empty queue, one into a partly filled
    one, one into a full one (FIFO eviction); the first absent class has a full queue (its prototype must not move).
    Entries are positive random vectors on the scale of real pooled features. pl_hist/pl_window totals are those of a
    real run at step t (period*Bu once a refresh has happened, Bu per step since the last one).
  batch: x_lb F32 [B,C,H,W], y_lb I64 [B], x_ulb_w F32 [Bu,C,H,W], x_ulb_s F32 [Bu,C,H,W] (all N(0,1))
  expected: everything `supervised` writes plus out.logits_ulb_w/out.logits_ulb_s F32 [Bu,K], out.feat_ulb_w F32 [Bu,D],
    out.loss_cls, out.loss_u (= sum(mask*CE)/Bu, unweighted), out.loss_align (= L_align unweighted; 0 when inactive
    or fixmatch), out.loss_u_weighted (= lambda_u * loss_u), out.loss_align_weighted (= lambda_align * loss_align, 0
    when lambda_align = 0), out.loss (= the weighted sum, official order align + cls + u) F32 [], out.mask F32 [Bu],
    out.pseudo_label I64 [Bu], out.blend_weight F32 [Bu] (v[k'], or interp_alpha; 0 in warm-up and fixmatch),
    out.q_hat F32 [Bu,K]
    (softmax(cos(z_w, C)/T_proto) with the post-push prototypes, in every daso step incl. warm-up; zeros for
    fixmatch) and for daso the updated daso.* (after this step's push, histogram update and possible refresh).
  --steps N > 1: a chain of N consecutive steps t..t+N-1. The first is drawn exactly as a single step; each next one
    starts from the previous step's F32 result (EMA num_batches_tracked rounded to I64, as a checkpoint holds it)
    with a new batch (x_lb, y_lb with 3 distinct classes for daso, x_ulb_s, x_ulb_w; the guards redraw x_ulb_w).
    Writes checkpoint.safetensors (the input of step t), batch-<i>.safetensors and expected-<i>.safetensors.
  DASO is active (blend + L_align) for t >= max(warmup, 1). The EMA runs its train-mode forward on x_lb first (its BN
  running stats and counter move), then gets the usual EMA update after the SGD step.
  Guards (float64 step; only x_ulb_w is redrawn): every LeakyReLU input of the joint online forward >= --kink-margin,
  every |conf - tau| >= --margin, top-2 gap of every p' row and every linear p row >= --margin, mask has both zeros and
  ones, and (daso, active, dist_aware) some row has v[k'] = 0 and some v[k'] > 0. The written result must then take
  the float64 decisions (asserted).

EMA of num_batches_tracked (PyTorch 1.13.0, checked): the official update `emp_p.data = d * emp_p.data + (1 - d) * p.data`
multiplies an int64 buffer by a Python float, which promotes to the default float dtype (float32), and assigning `.data`
changes the buffer's dtype: after the first EMA update the EMA's num_batches_tracked is a float32 tensor holding a
fractional value (0.875*7 + 0.125*8 = 7.125 at t = 7). We store exactly that value, as F32, in expected.safetensors
(`ema.*.num_batches_tracked`); the input checkpoint has it as I64 (a fresh EMA is a deep copy: int64). The value is
never used by training (BN momentum is 0.1, not None). For daso the EMA's own forward first makes it t+1 (int64),
so the blend gives exactly t+1 (F32 11.0 at t = 10).
"""
from __future__ import annotations

import argparse
import json
import math
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
# required; `max_iter`, `ssl`, `daso` and `logit_adjust` take CONFIG_DEFAULTS when missing, key by key, like the TS
# mergeStrict.)


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
    # train-time logit adjustment of the labeled CE (src/train/step-config.ts): logits_lb + tau * log(counts / sum)
    "logit_adjust": {"enabled": bool, "tau": float, "class_counts": list},
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
    "logit_adjust": {"enabled": False, "tau": 1.0, "class_counts": []},
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
        # the same rules as parseStepFileConfig (src/train/step-config.ts)
        la, K = cfg["logit_adjust"], cfg["model"]["num_classes"]
        if not 0 <= la["tau"] <= 10:
            raise SystemExit(f"config.logit_adjust.tau = {la['tau']} is out of range [0, 10]")
        cc = la["class_counts"]
        if la["enabled"] and not cc:
            raise SystemExit(f"config.logit_adjust.class_counts is missing: logit_adjust.enabled needs the labeled image count "
                             f"of each of the {K} classes")
        if cc and len(cc) != K:
            raise SystemExit(f"config.logit_adjust.class_counts has {len(cc)} entries; model.num_classes is {K}")
        for i, n in enumerate(cc):
            if isinstance(n, bool) or not isinstance(n, int) or n < 1:
                raise SystemExit(f"config.logit_adjust.class_counts[{i}] = {json.dumps(n)} is not a positive integer")
    return cfg


def logit_adjust_vector(cfg):
    """tau * log(prior) per class as float32 (None when off): the same doubles as src/train/step-config.ts and
    src/train/trainer.ts (prior = count / total, log of max(prior, 1e-12)), rounded to float32 once. Added to the
    labeled logits only, in the labeled CE (spec: logits + tau log pi); the unlabeled logits are not adjusted."""
    la = cfg["logit_adjust"]
    if not la["enabled"]:
        return None
    total = sum(la["class_counts"])
    return torch.tensor([la["tau"] * math.log(max(n / total, 1e-12)) for n in la["class_counts"]], dtype=torch.float64).to(torch.float32)


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
    la = logit_adjust_vector(cfg)
    if la is not None:
        logits = logits + la.to(dtype)  # out.logits_lb below are the adjusted logits the CE sees
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


# ---------------------------------------------------------------------------------------------------------------------
# FixMatch / FixMatch + DASO: one step exactly as lib/algorithm/{fixmatch,daso}.py + lib/models/daso_model.py +
# lib/models/feature_queue.py + lib/utils/dist_logger.py (spec §1.2, §1.5, §7).


def daso_active(cfg: dict, step: int) -> bool:
    """The official `pretraining` flag starts True and is cleared at the END of step t once t+1 >= warmup, so DASO
    (blend and L_align) runs for t >= max(warmup, 1) (spec §7)."""
    return cfg["algorithm"] == "daso" and step >= max(cfg["daso"]["warmup"], 1)


def ssl_step(cfg: dict, model_sd, ema_sd, momentum, batch: dict, dstate: dict | None, step: int, dtype: torch.dtype):
    """One fixmatch/daso step. Returns (expected tensors as numpy F32/I64, ema decay, diagnostics in float64)."""
    algo, mc, oc, sc, dc = cfg["algorithm"], cfg["model"], cfg["optim"], cfg["ssl"], cfg["daso"]
    K = mc["num_classes"]
    torch.set_default_dtype(dtype)
    model = Model(mc).to(dtype)
    ema = Model(mc).to(dtype)
    model.load_state_dict(model_sd)
    ema.load_state_dict(ema_sd)
    for p in ema.parameters():
        p.requires_grad_(False)
    model.train()
    ema.train()  # EMAModel keeps train() mode: its BN uses batch statistics and updates its running stats
    x_lb, y_lb = batch["x_lb"].to(dtype), batch["y_lb"]
    x_w, x_s = batch["x_ulb_w"].to(dtype), batch["x_ulb_s"].to(dtype)
    B, Bu = x_lb.shape[0], x_w.shape[0]
    is_daso = algo == "daso"
    active = daso_active(cfg, step)
    cos = nn.CosineSimilarity(dim=2)  # eps 1e-8: a zero (never filled) prototype gives similarity 0

    # 1. queue push (DASO only, every step incl. warm-up): EMA encoder on the labeled batch, train-mode BN
    if is_daso:
        L = dc["queue_size"]
        banks = [dstate["queue"][k, : int(dstate["queue_len"][k])].to(dtype).clone() for k in range(K)]
        protos = dstate["prototypes"].to(dtype).clone()
        with torch.no_grad():
            l_feats = ema.encoder(x_lb)
        for k in range(K):  # FeatureQueue.enqueue (bal_queue: max_size = L for every class)
            idx = torch.where(y_lb == k)[0]
            if len(idx):
                banks[k] = torch.cat([banks[k], l_feats[idx]], 0)
                if len(banks[k]) > L:
                    banks[k] = banks[k][len(banks[k]) - L :]
                protos[k, :] = banks[k].mean(0)

    # 2. one joint online forward of [x_lb; x_ulb_w; x_ulb_s] (shared BN batch statistics)
    with PreActs(model) as pre:
        feats = model.encoder(torch.cat([x_lb, x_w, x_s], 0))
    preacts = pre.all()
    f_w, f_s = feats[B:].chunk(2)
    loss_dict = {}
    q_hat = torch.zeros(Bu, K, dtype=dtype)
    if is_daso:
        with torch.no_grad():  # computed in every daso step for the fixture; the official code only when active
            q_hat = (cos(f_w.unsqueeze(1), protos.unsqueeze(0)) / dc["t_proto"]).softmax(dim=1)
        if active:
            # unweighted L_align is reported whenever DASO is active; it joins the loss (weighted) only when
            # lambda_align > 0, as in the official code
            sim_s = cos(f_s.unsqueeze(1), protos.unsqueeze(0)) / dc["t_proto"]
            loss_align = -1 * torch.sum(q_hat * F.log_softmax(sim_s, dim=1), dim=1).sum() / Bu
            if dc["lambda_align"] > 0:
                loss_dict["loss_align"] = dc["lambda_align"] * loss_align
    logits = model.classifier(feats)
    logits_lb = logits[:B]
    logits_w, logits_s = logits[B:].chunk(2)
    la = logit_adjust_vector(cfg)
    if la is not None:
        logits_lb = logits_lb + la.to(dtype)  # labeled CE only; out.logits_lb are these adjusted logits
    loss_dict["loss_cls"] = F.cross_entropy(logits_lb, y_lb, reduction="mean")
    with torch.no_grad():
        p = logits_w.softmax(dim=1)
        _, k_lin = torch.max(p, dim=1)
        p_final = p
        blend = torch.zeros(Bu, dtype=dtype)
        if active:
            hist = dstate["pl_hist"].to(dtype)
            if dc["dist_aware"] and float(hist.sum()) == 0:
                raise SystemExit("daso is active but daso.pl_hist is all zero (m̂ = 0/0, NaN in the official code; spec §7)")
            m = hist / hist.sum()  # DistributionLogger.get_pl_dist(normalize=True)
            m = m ** (1.0 / dc["t_dist"])
            m = m / m.sum()
            m = m / m.max()
            w = m[k_lin].view(-1, 1)
            if not dc["dist_aware"]:
                w = dc["interp_alpha"]
            p_final = (1.0 - w) * p + w * q_hat
            blend = (w.view(-1) if torch.is_tensor(w) else torch.full((Bu,), float(w), dtype=dtype)).clone()
        conf, pl = torch.max(p_final, dim=1)
        mask = conf.ge(sc["tau"]).to(dtype)
    ce_s = F.cross_entropy(logits_s, pl, reduction="none")
    loss_u = (ce_s * mask).sum() / Bu  # weight_reduce_loss(avg_factor=Bu)
    loss_dict["loss_cons"] = sc["lambda_u"] * loss_u
    loss = sum(loss_dict.values())  # official order: loss_align (if active), loss_cls, loss_cons
    model.zero_grad(set_to_none=True)
    loss.backward()
    grads = {n: p_.grad.detach().clone() for n, p_ in model.named_parameters()}

    opt = torch.optim.SGD(
        model.parameters(), lr=oc["lr"], momentum=oc["momentum"], nesterov=oc["nesterov"], weight_decay=oc["weight_decay"]
    )
    for n, p_ in model.named_parameters():
        opt.state[p_]["momentum_buffer"] = momentum[n].to(dtype).clone()
    opt.step()
    new_momentum = {n: opt.state[p_]["momentum_buffer"].detach().clone() for n, p_ in model.named_parameters()}
    d = min(1 - 1 / (step + 1), cfg["ema_decay"])
    with torch.no_grad():  # EMAModel.update: params and buffers (the EMA's own BN update from step 1 is blended)
        for emp_p, p_ in zip(ema.parameters(), model.parameters()):
            emp_p.data = d * emp_p.data + (1 - d) * p_.data
        for emp_p, p_ in zip(ema.buffers(), model.buffers()):
            emp_p.data = d * emp_p.data + (1 - d) * p_.data
    torch.set_default_dtype(torch.float32)

    out = {}
    for k, v in model.state_dict().items():
        out[f"model.{k}"] = to_np(v)
    for k, v in ema.state_dict().items():
        out[f"ema.{k}"] = to_np(v)
    for n, v in new_momentum.items():
        out[f"optim.momentum.{n}"] = to_np(v)
    for n, v in grads.items():
        out[f"grad.{n}"] = to_np(v)
    out["step"] = np.array(step + 1, np.int64)
    zero = torch.zeros((), dtype=dtype)
    out.update(
        {
            "out.logits_lb": to_np(logits_lb),
            "out.logits_ulb_w": to_np(logits_w),
            "out.logits_ulb_s": to_np(logits_s),
            "out.feat_ulb_w": to_np(f_w),
            "out.loss_cls": to_np(loss_dict["loss_cls"]),
            "out.loss_u": to_np(loss_u),
            "out.loss_u_weighted": to_np(loss_dict["loss_cons"]),
            "out.loss_align": to_np(loss_align if active else zero),
            "out.loss_align_weighted": to_np(loss_dict.get("loss_align", zero)),
            "out.loss": to_np(loss),
            "out.mask": to_np(mask),
            "out.pseudo_label": to_np(pl),
            "out.blend_weight": to_np(blend),
            "out.q_hat": to_np(q_hat),
        }
    )
    if is_daso:
        # DistributionLogger.push_pl_list(final PL of all Bu, unmasked) and update_pl_dist at the end of run_step
        window = dstate["pl_window"].clone() + torch.bincount(pl, minlength=K)
        hist = dstate["pl_hist"].clone()
        refreshed = (step + 1) % dc["pl_update_period"] == 0 and step + 1 < cfg["max_iter"]
        if refreshed:
            hist, window = window, torch.zeros_like(window)
        queue = torch.zeros(K, dc["queue_size"], feats.shape[1], dtype=dtype)
        for k in range(K):
            queue[k, : len(banks[k])] = banks[k]
        out.update(
            {
                "daso.queue": to_np(queue),
                "daso.queue_len": np.array([len(b) for b in banks], np.int64),
                "daso.prototypes": to_np(protos),
                "daso.pl_hist": to_np(hist),
                "daso.pl_window": to_np(window),
            }
        )
    with torch.no_grad():
        srt = p_final.double().sort(dim=1, descending=True).values
        srt_lin = p.double().sort(dim=1, descending=True).values
    diag = {
        "active": active,
        "refreshed": bool(is_daso and refreshed),
        "min_abs_preact": float(preacts.min()),
        "preact_count": preacts.numel(),
        "preacts_below_1e-5": int((preacts < 1e-5).sum()),
        "conf": conf.double(),
        "conf_margin": float((conf.double() - sc["tau"]).abs().min()),
        "gap_final": float((srt[:, 0] - srt[:, 1]).min()),
        "gap_linear": float((srt_lin[:, 0] - srt_lin[:, 1]).min()),
        "mask_sum": int(mask.sum()),
        "k_lin": k_lin.clone(),
        "pl": pl.clone(),
        "blend": blend.double(),
        "Bu": Bu,
    }
    return out, d, diag


def make_daso_state(cfg: dict, y: torch.Tensor, step: int, bu: int, g: torch.Generator, feat_scale: torch.Tensor):
    """Queues: of the classes in y, one empty, one partly filled, one full (then FIFO eviction); of the absent classes
    the first is filled (its prototype must stay), the rest random. Features ~ feat_scale * |1 + 0.5 N(0,1)| per
    entry (positive like real pooled LeakyReLU features). Prototypes = mean of each queue, zeros for empty ones.
    pl_hist/pl_window: random counts with the totals of a real run at step t (period*Bu once a refresh happened, and
    Bu per step since the last refresh); pl_hist has at least one zero class."""
    K, dc = cfg["model"]["num_classes"], cfg["daso"]
    L, P, D = dc["queue_size"], dc["pl_update_period"], feat_scale.numel()
    present = torch.unique(y).tolist()
    perm = torch.randperm(len(present), generator=g).tolist()
    present = [present[i] for i in perm]
    absent = [k for k in range(K) if k not in present]
    lens = torch.zeros(K, dtype=torch.int64)
    roles = {}
    for i, k in enumerate(present):
        lens[k] = [0, int(torch.randint(1, L, (1,), generator=g)), L][i] if i < 3 else int(torch.randint(0, L + 1, (1,), generator=g))
        roles[k] = ["present-empty", "present-partial", "present-full"][i] if i < 3 else "present"
    for i, k in enumerate(absent):
        lens[k] = L if i == 0 else int(torch.randint(0, L + 1, (1,), generator=g))
        roles[k] = "absent"
    queue = torch.zeros(K, L, D)
    protos = torch.zeros(K, D)
    for k in range(K):
        n = int(lens[k])
        if n:
            queue[k, :n] = feat_scale * (1 + 0.5 * torch.randn(n, D, generator=g)).abs()
            protos[k] = queue[k, :n].mean(0)

    def counts(total):
        if total == 0:
            return torch.zeros(K, dtype=torch.int64)
        probs = torch.rand(K, generator=g) + 0.05
        return torch.bincount(torch.multinomial(probs, total, replacement=True, generator=g), minlength=K)

    refreshes_before = step // P  # refresh at the end of steps P-1, 2P-1, ... < t
    hist = counts(P * bu if refreshes_before > 0 else 0)
    if hist.sum() > 0 and (hist > 0).all():
        z = int(torch.randint(0, K, (1,), generator=g))
        hist[(z + 1) % K] += hist[z]  # keep the total
        hist[z] = 0
    window = counts((step - refreshes_before * P) * bu)
    return {"queue": queue, "queue_len": lens, "prototypes": protos, "pl_hist": hist, "pl_window": window}, roles


def cmd_ssl(a):
    with open(a.config) as f:
        raw = json.load(f)
    cfg = check_config(raw)
    if cfg["algorithm"] != a.cmd:
        raise SystemExit(f"config.algorithm is {cfg['algorithm']!r}; the '{a.cmd}' command needs '{a.cmd}'")
    if a.batch_size < 1 or a.ulb_batch_size < 1 or a.step < 0 or a.steps < 1:
        raise SystemExit("--batch-size, --ulb-batch-size and --steps must be >= 1 and --step >= 0")
    torch.set_num_threads(1)
    torch.use_deterministic_algorithms(True)
    dtype = {"f32": torch.float32, "f64": torch.float64}[a.dtype]
    mc, K = cfg["model"], cfg["model"]["num_classes"]
    is_daso = a.cmd == "daso"
    model_sd, ema_sd, momentum, x_lb, y_lb = make_inputs(cfg, a.seed, a.batch_size, a.step)
    for sd in (model_sd, ema_sd):
        sd["classifier.classifier.weight"] = sd["classifier.classifier.weight"] * a.classifier_scale
    g = torch.Generator().manual_seed(a.seed + 3_000_017)
    s = mc["image_size"]
    shape_u = (a.ulb_batch_size, mc["in_channels"], s, s)
    x_s = torch.randn(shape_u, generator=g)
    x_w = torch.randn(shape_u, generator=g)

    def distinct_labels(y):
        # DASO: y_lb with exactly 3 distinct classes, so that pushes into empty, partly filled and full queues and
        # absent classes all occur (the first step's queues are set up for this; later steps keep the mix likely)
        want, tries = min(3, K, a.batch_size), 0
        while len(torch.unique(y)) != want:
            tries += 1
            if tries > 1000:
                raise SystemExit("cannot draw y_lb with 3 distinct classes")
            y = torch.randint(0, K, (a.batch_size,), generator=g, dtype=torch.int64)
        return y

    dstate, roles = None, {}
    if is_daso:
        # y_lb with exactly 3 distinct classes (when K, B allow): one pushes into an empty queue, one into a partly
        # filled one, one into a full one; the other classes are absent from the batch.
        y_lb = distinct_labels(y_lb)
        with torch.no_grad():  # scale of real pooled features: the EMA encoder on the labeled batch (train BN)
            m = Model(mc)
            m.load_state_dict(ema_sd)
            m.train()
            feat_scale = m.encoder(x_lb).mean(0).abs() + 0.05
        dstate, roles = make_daso_state(cfg, y_lb, a.step, a.ulb_batch_size, g, feat_scale)
        if daso_active(cfg, a.step) and cfg["daso"]["dist_aware"] and a.zero_hist_class_from_pilot:
            # put pl_hist's zero on a class the linear classifier predicts, so that v = 0 is exercised
            sd64 = {k: v.double() if v.is_floating_point() else v for k, v in model_sd.items()}
            _, _, dg = ssl_step(cfg, sd64, {k: v.double() if v.is_floating_point() else v for k, v in ema_sd.items()},
                                momentum, {"x_lb": x_lb, "y_lb": y_lb, "x_ulb_w": x_w, "x_ulb_s": x_s},
                                {**dstate, "pl_hist": torch.ones(K, dtype=torch.int64)}, a.step, torch.float64)
            k0 = int(torch.bincount(dg["k_lin"], minlength=K).argmax())
            h = dstate["pl_hist"]
            if h[k0] != 0:
                zs = int(torch.nonzero(h == 0)[0])
                h[zs], h[k0] = h[k0], 0
    gw = torch.Generator().manual_seed(a.seed + 4_000_037)

    def guard(diag):
        """Reasons this draw sits too close to a decision (float64 step)."""
        r = []
        if diag["min_abs_preact"] < a.kink_margin:
            r.append(f"kink {diag['min_abs_preact']:.2e}")
        if diag["conf_margin"] < a.margin:
            r.append(f"|conf-tau| {diag['conf_margin']:.2e}")
        if diag["gap_final"] < a.margin:
            r.append(f"p' top-2 gap {diag['gap_final']:.2e}")
        if diag["gap_linear"] < a.margin:
            r.append(f"p top-2 gap {diag['gap_linear']:.2e}")
        if not 0 < diag["mask_sum"] < diag["Bu"]:
            r.append(f"mask sum {diag['mask_sum']}/{diag['Bu']}")
        if is_daso and diag["active"] and cfg["daso"]["dist_aware"] and a.require_v_coverage:
            v = diag["blend"]
            if not ((v == 0).any() and (v > 0).any()):
                r.append("v coverage")
        return r

    def batch():
        return {"x_lb": x_lb, "y_lb": y_lb, "x_ulb_w": x_w, "x_ulb_s": x_s}

    to64 = lambda sd: {k: v.double() if v.is_floating_point() else v for k, v in sd.items()}  # noqa: E731
    os.makedirs(a.out_dir, exist_ok=True)
    chain = a.steps > 1
    base_meta = {
        "generator": f"scripts/torch_reference.py {a.cmd}",
        "config": json.dumps(raw, sort_keys=True, separators=(",", ":")),
        "seed": str(a.seed),
        "batch_size": str(a.batch_size),
        "ulb_batch_size": str(a.ulb_batch_size),
        "step": str(a.step),
        "torch": torch.__version__,
        "classifier_scale": repr(a.classifier_scale),
        "kink_margin_requested": repr(a.kink_margin),
        "decision_margin_requested": repr(a.margin),
    }
    if chain:
        base_meta["chain_steps"] = str(a.steps)
    t = a.step
    sizes = {}
    for i in range(a.steps):
        if i > 0:
            # The next step starts from this reference's own float32 result (as `daso step --checkpoint` does from
            # the port's), with a fresh batch drawn from g; x_ulb_w is redrawn from gw like the first step's.
            model_sd, ema_sd, momentum, dstate = carry_state(out)
            x_lb = torch.randn(x_lb.shape, generator=g)
            y_lb = torch.randint(0, K, (a.batch_size,), generator=g, dtype=torch.int64)
            if is_daso:
                y_lb = distinct_labels(y_lb)
            x_s = torch.randn(shape_u, generator=g)
            x_w = torch.randn(shape_u, generator=g)
        redraws = 0
        while True:
            _, _, diag64 = ssl_step(cfg, to64(model_sd), to64(ema_sd), momentum, batch(), dstate, t, torch.float64)
            why = guard(diag64)
            if not why:
                break
            redraws += 1
            if redraws > a.max_redraws:
                raise SystemExit(f"step {t}: no x_ulb_w passes the guards in {a.max_redraws} draws (last: {', '.join(why)})")
            x_w = torch.randn(shape_u, generator=gw)
        dstate_in = dstate
        out, d, diag = ssl_step(cfg, model_sd, ema_sd, momentum, batch(), dstate, t, dtype)
        # the guards hold in float64; the written result (any --dtype) must take the same decisions
        assert np.array_equal(out["out.pseudo_label"], diag64["pl"].numpy()), "pseudo-labels differ from float64"
        assert np.array_equal(out["out.mask"], (diag64["conf"] >= cfg["ssl"]["tau"]).numpy().astype(np.float32))
        assert 0 < out["out.mask"].sum() < a.ulb_batch_size

        meta = {**base_meta, "x_ulb_w_redraws": str(redraws)}
        if chain:
            meta.update({"step": str(t), "chain_index": str(i)})
        guard_meta = {
            "daso_active": str(diag64["active"]).lower(),
            "pl_hist_refreshed": str(diag64["refreshed"]).lower(),
            "kink_min_abs_preact": f"{diag64['min_abs_preact']:.3e}",
            "kink_count_below_1e-5": str(diag64["preacts_below_1e-5"]),
            "preact_count": str(diag64["preact_count"]),
            "min_abs_conf_minus_tau": f"{diag64['conf_margin']:.3e}",
            "min_top2_gap_final": f"{diag64['gap_final']:.3e}",
            "min_top2_gap_linear": f"{diag64['gap_linear']:.3e}",
            "linear_argmax": json.dumps(diag64["k_lin"].tolist()),
            "pseudo_label": json.dumps(diag64["pl"].tolist()),
            "confidence": json.dumps([round(float(c), 6) for c in diag64["conf"]]),
        }
        if is_daso and i == 0:
            meta["queue_roles"] = json.dumps({str(k): v for k, v in sorted(roles.items())})
        if i == 0:
            ckpt = {f"model.{k}": to_np(v) for k, v in model_sd.items()}
            ckpt.update({f"ema.{k}": to_np(v) for k, v in ema_sd.items()})
            ckpt.update({f"optim.momentum.{n}": to_np(v) for n, v in momentum.items()})
            ckpt["step"] = np.array(a.step, np.int64)
            if is_daso:
                ckpt.update({f"daso.{k}": to_np(v) for k, v in dstate.items()})
            ck_meta = {**meta, "step": str(a.step)}
            ck_meta.pop("chain_index", None)
            sizes["checkpoint"] = st.write_file(os.path.join(a.out_dir, "checkpoint.safetensors"), ckpt, ck_meta)
        sfx = f"-{i}" if chain else ""
        sizes[f"batch{sfx}"] = st.write_file(
            os.path.join(a.out_dir, f"batch{sfx}.safetensors"), {k: to_np(v) for k, v in batch().items()}, meta
        )
        sizes[f"expected{sfx}"] = st.write_file(
            os.path.join(a.out_dir, f"expected{sfx}.safetensors"),
            out,
            {**meta, **guard_meta, "compute_dtype": a.dtype, "ema_decay_used": repr(d)},
        )
        print(
            f"{a.out_dir}: {a.cmd} t={t} active={diag64['active']} refresh={diag64['refreshed']} redraws={redraws} "
            f"loss {float(out['out.loss']):.6f} (cls {float(out['out.loss_cls']):.4f} u {float(out['out.loss_u']):.4f} "
            f"align {float(out['out.loss_align']):.4f}, unweighted) mask {out['out.mask'].astype(int).tolist()} "
            f"k' {diag64['k_lin'].tolist()} pl {out['out.pseudo_label'].tolist()} v {np.round(out['out.blend_weight'], 3).tolist()}\n"
            f"  conf {np.round(diag64['conf'].numpy(), 4).tolist()} |conf-tau|>={diag64['conf_margin']:.2e} "
            f"gap p' {diag64['gap_final']:.2e} gap p {diag64['gap_linear']:.2e} kink {diag64['min_abs_preact']:.2e}"
            + (f"\n  roles {roles if i == 0 else '-'} y {y_lb.tolist()} len {dstate_in['queue_len'].tolist()} -> "
               f"{out['daso.queue_len'].tolist()} hist {dstate_in['pl_hist'].tolist()} -> {out['daso.pl_hist'].tolist()} "
               f"window {dstate_in['pl_window'].tolist()} -> {out['daso.pl_window'].tolist()}" if is_daso else "")
        )
        t += 1
    print("  " + ", ".join(f"{k} {v / 1e6:.3f} MB" for k, v in sizes.items()) + f", total {sum(sizes.values()) / 1e6:.3f} MB")


def carry_state(out):
    """The state after a step, as the next step's input: model, EMA, momentum and DASO state from `out` (numpy, as
    written to expected). The EMA's num_batches_tracked comes back as I64, rounded, because that is what a
    checkpoint holds (PyTorch keeps a float32 blend, see the module docstring; exportCheckpoint in
    src/train/checkpoint.ts rounds it). Training never reads it, and for daso it is exactly t+1 anyway."""
    take = lambda prefix: {k[len(prefix):]: torch.from_numpy(np.array(v)) for k, v in out.items() if k.startswith(prefix)}  # noqa: E731
    model_sd, ema_sd, momentum = take("model."), take("ema."), take("optim.momentum.")
    for k, v in ema_sd.items():
        if k.endswith("num_batches_tracked"):
            ema_sd[k] = torch.tensor(int(round(float(v))), dtype=torch.int64)
    dstate = take("daso.") or None
    return model_sd, ema_sd, momentum, dstate


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
    for name, hlp in [("fixmatch", "one FixMatch step"), ("daso", "one FixMatch + DASO step")]:
        s = sub.add_parser(name, help=f"{hlp}; writes checkpoint/batch/expected safetensors")
        s.add_argument("--config", required=True)
        s.add_argument("--seed", type=int, required=True)
        s.add_argument("--batch-size", type=int, required=True, help="B (labeled)")
        s.add_argument("--ulb-batch-size", type=int, required=True, help="Bu (unlabeled; weak and strong views)")
        s.add_argument("--out-dir", required=True)
        s.add_argument("--step", type=int, default=7, help="t: the step index the checkpoint is at (default 7)")
        s.add_argument("--dtype", choices=["f32", "f64"], default="f32", help="compute dtype (outputs are always F32)")
        s.add_argument("--kink-margin", type=float, default=0.0, help="min |LeakyReLU input| of the joint float64 forward")
        s.add_argument(
            "--margin", type=float, default=1e-3, help="min |conf - tau| and min top-2 gap of p and p' (float64)"
        )
        s.add_argument("--classifier-scale", type=float, default=1.0, help="multiply the classifier weight (model and EMA)")
        s.add_argument("--max-redraws", type=int, default=2000)
        s.add_argument(
            "--steps",
            type=int,
            default=1,
            help="N > 1: a chain of N consecutive steps, each from the previous step's result, with a new batch each; "
            "writes batch-<i>.safetensors and expected-<i>.safetensors for i = 0..N-1",
        )
        if name == "daso":
            s.add_argument(
                "--require-v-coverage",
                action=argparse.BooleanOptionalAction,
                default=True,
                help="(active, dist_aware) redraw until some row has v[k'] = 0 and some v[k'] > 0",
            )
            s.add_argument(
                "--zero-hist-class-from-pilot",
                action=argparse.BooleanOptionalAction,
                default=True,
                help="(active, dist_aware) put pl_hist's zero on the class the first draw predicts most",
            )
    c = sub.add_parser("compare", help="error of expected file A against expected file B")
    c.add_argument("a")
    c.add_argument("b")
    c.add_argument("--base", help="the input checkpoint: scale errors of updated state by the step's change")
    c.add_argument("-v", "--verbose", action="store_true")
    a = p.parse_args(argv)
    {"supervised": cmd_supervised, "fixmatch": cmd_ssl, "daso": cmd_ssl, "compare": cmd_compare}[a.cmd](a)


if __name__ == "__main__":
    main()
