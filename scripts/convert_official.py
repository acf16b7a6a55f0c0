#!/usr/bin/python3
"""Convert between an official DASO checkpoint (ytaek-oh/daso, a torch.save pickle) and a daso-webgpu checkpoint.

  /usr/bin/python3 scripts/convert_official.py to-project OFFICIAL.pth OUT.safetensors --config cfg.json [--trust-pickle]
        [--daso-from IMAGES.safetensors]
  /usr/bin/python3 scripts/convert_official.py to-official IN.safetensors OUT.pth [--config cfg.json]

Needs Debian's python3-torch (1.13, CPU) and numpy (`apt-get install -y python3-torch`); `daso convert` runs it.

The official layout (ytaek-oh/daso at f9132f55, lib/utils/checkpoint.py `save_checkpoint` and
lib/engine/base_trainer.py `save_checkpoint` / `load_checkpoint`), one dict written by torch.save:
  "model":      DASOModel.state_dict(): encoder.* and classifier.classifier.* (our names without `model.`);
                BN num_batches_tracked int64
  "ema_model":  EMAModel.state_dict(), or None for a supervised run. EMAModel wraps the copy in `self.ema_model`, so
                its keys are `ema_model.encoder...` (get_model_state_dict strips only a DataParallel `module.`). After
                an EMA update its num_batches_tracked are float32 (see torch_reference.py), which we keep as F32.
  "optimizer":  torch.optim.SGD(model.parameters()).state_dict(): {"state": {i: {"momentum_buffer": T}},
                "param_groups": [{"lr", "momentum", "dampening", "weight_decay", "nesterov", ..., "params": [0..N-1]}]}
                index i = position in model.parameters(), the order src/nn/wrn-spec.ts and torch_reference.Model
                follow. A parameter that was never stepped has no entry.
  "scheduler":  the LR scheduler's state_dict (WarmupCosineLRFixMatch: base_lrs, last_epoch, max_iters, ...)
  "meta":       {"iter": self.iter + 1 (steps done), "valid/top1": ..., ...} (evaluation history; may hold numpy floats)
The official DASO state is NOT saved: FeatureQueue (queues, prototypes) is a plain object, not an nn.Module, and the
pseudo-label histogram lives in DistributionLogger; an official resume restarts them empty.

Mapping (both directions lossless for what both formats hold):
  model.<k> = "model"[k]; ema.<k> = "ema_model"["ema_model." + k]; optim.momentum.<name of parameter i> =
  "optimizer"["state"][i]["momentum_buffer"]; step (I64, index of the next step) = "meta"["iter"] (steps done).
  Note: the official load_checkpoint resumes at meta["iter"] + 1, one step later than the step it saved after; we
  keep the number of steps done, which is the step the official run would have run next without the restart.
  A missing momentum buffer becomes zeros: PyTorch's first step sets buf = grad, which equals 0.9 * 0 + grad
  (dampening 0), so zeros continue the run exactly. A missing EMA ("ema_model": None) becomes a copy of the model,
  which is what the official EMAModel starts as (deepcopy). Both are reported, and recorded in the metadata so that
  to-official writes them back absent.
  Everything else of the official file (scheduler, meta, optimizer hyperparameters) is kept as JSON in the metadata
  key `official` so that official -> project -> official gives the same file content back.
  DASO state: by default the project checkpoint gets NO daso.* tensors and the metadata `daso_state` = "absent"; the
  checkpoint validator (src/train/checkpoint-check.ts) refuses such a file for algorithm 'daso' with a message saying
  how to go on. With --daso-from IMAGES.safetensors it is rebuilt by the rule in rebuild_daso() (EMA features of
  labeled images for the queues, EMA predictions on unlabeled images for the histogram), `daso_state` = "rebuilt".
  to-official drops daso.* (the official format has no place for them) and says so.

Safety: .pth files are pickles, and unpickling can run code. By default the file is unpickled with an allow-list
(tensors, storages, OrderedDict, numpy scalars: everything an official checkpoint holds); anything else is refused.
`--trust-pickle` unpickles without the allow-list (torch.load(map_location='cpu')): only for files you trust.
Errors (exit 1) name the file, the tensor or key, and the fix. Everything converted, defaulted or dropped is reported
on stdout.
"""
from __future__ import annotations

import argparse
import collections
import json
import os
import pickle
import sys
import tempfile
import types

import numpy as np
import torch

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import safetensors_io as st  # noqa: E402
from torch_reference import Model, check_config  # noqa: E402

NBT = "num_batches_tracked"
OFFICIAL_KEYS = ("model", "ema_model", "optimizer", "scheduler", "meta")
EMA_PREFIX = "ema_model."
NUMPY_TAG = "__numpy_scalar__"


def from_jsonable(x):
    if isinstance(x, dict):
        if set(x) == {NUMPY_TAG, "value"}:
            return np.dtype(x[NUMPY_TAG]).type(x["value"])
        return {k: from_jsonable(v) for k, v in x.items()}
    if isinstance(x, list):
        return [from_jsonable(v) for v in x]
    return x


class ConvertError(Exception):
    pass


def fail(msg: str):
    raise ConvertError(msg)


# ---------------------------------------------------------------------------------------------------------------------
# Loading a pickle with an allow-list: torch 1.13's weights_only=True refuses plain Python floats (every optimizer
# state_dict has them), so it cannot read real checkpoints; this allow-list admits exactly what they hold.

_ALLOWED = {
    ("collections", "OrderedDict"),
    ("torch._utils", "_rebuild_tensor_v2"),
    ("torch._utils", "_rebuild_parameter"),
    ("torch", "Size"),
    ("numpy.core.multiarray", "scalar"),
    ("numpy", "dtype"),
    ("numpy.core.multiarray", "_reconstruct"),
    ("numpy", "ndarray"),
    ("_codecs", "encode"),  # protocol 2 (torch.save's default) writes bytes, e.g. a numpy scalar's, through it
    ("builtins", "set"),
    ("builtins", "frozenset"),
    ("__builtin__", "set"),  # protocol 2 names builtins by their Python 2 module
    ("__builtin__", "frozenset"),
}


class _AllowListUnpickler(pickle.Unpickler):
    def find_class(self, module, name):
        if (module, name) in _ALLOWED:
            return super().find_class(module, name)
        raise pickle.UnpicklingError(f"the pickle imports {module}.{name}")


_safe_pickle = types.SimpleNamespace(Unpickler=_AllowListUnpickler, load=lambda f, **kw: _AllowListUnpickler(f, **kw).load(),
                                     __name__="allow-list pickle")


def _load_allow_list(path: str):
    # torch.load(pickle_module=...) cannot be used: torch 1.13 replaces any pickle_module by `pickle` unless
    # weights_only is set (torch/serialization.py load()), which would unpickle everything. So this is torch.load's
    # own dispatch with our unpickler (test/convert.test.ts checks that a pickle calling print() is refused).
    ser = torch.serialization
    if not all(hasattr(ser, n) for n in ("_is_zipfile", "_open_zipfile_reader", "_is_torchscript_zip", "_load", "_legacy_load")):
        fail(f"'{path}': this PyTorch ({torch.__version__}) lacks the loader internals the allow-list uses; use Debian's "
             "python3-torch 1.13, or --trust-pickle if you trust the file")
    with open(path, "rb") as f:
        if ser._is_zipfile(f):
            with ser._open_zipfile_reader(f) as z:
                if ser._is_torchscript_zip(z):
                    raise pickle.UnpicklingError("it is a TorchScript archive (torch.jit.save), not a torch.save checkpoint")
                return ser._load(z, "cpu", _safe_pickle, encoding="utf-8")
        return ser._legacy_load(f, "cpu", _safe_pickle, encoding="utf-8")


def load_pickle(path: str, trust: bool):
    if not os.path.isfile(path):
        fail(f"'{path}': no such file (give the official checkpoint, e.g. checkpoint.pth.tar or model_best.pth.tar)")
    try:
        if trust:
            return torch.load(path, map_location="cpu")
        return _load_allow_list(path)
    except pickle.UnpicklingError as e:
        if not trust and "the pickle imports" in str(e):
            fail(f"'{path}': {e}, which a DASO checkpoint never holds; refused, because unpickling can run code. If you "
                 "trust this file (you made it), convert it with --trust-pickle")
        fail(f"'{path}' is not a PyTorch checkpoint written by torch.save ({e})")
    except (RuntimeError, KeyError, EOFError, ValueError, AttributeError, ImportError, TypeError) as e:
        fail(f"'{path}' is not a PyTorch checkpoint written by torch.save ({type(e).__name__}: {e})")


# ---------------------------------------------------------------------------------------------------------------------
# The model of a config, and checks of one state_dict against it.


def describe_model(mc: dict) -> str:
    return f"WRN-{mc['depth']}-{mc['width']}, {mc['in_channels']} input channels, {mc['num_classes']} classes"


def reference_model(mc: dict):
    torch.manual_seed(0)  # values are discarded; only names, shapes, dtypes and parameter order are used
    m = Model(mc)
    sd = m.state_dict()
    return m, [n for n, _ in m.named_parameters()], {k: (tuple(v.shape), v.dtype) for k, v in sd.items()}


def check_finite(what: str, name: str, t: torch.Tensor):
    if t.is_floating_point():
        bad = ~torch.isfinite(t)
        if bool(bad.any()):
            i = int(bad.flatten().nonzero()[0])
            fail(f"{what}: tensor '{name}' has a non-finite value ({t.flatten()[i].item()} at index {i}); a checkpoint with "
                 "NaN/Inf weights cannot continue training: convert an earlier checkpoint of the run")
        if name.endswith(".running_var") and bool((t < 0).any()):
            i = int((t < 0).flatten().nonzero()[0])
            fail(f"{what}: tensor '{name}' has a negative variance ({t.flatten()[i].item()} at index {i})")


def check_state_dict(sd, expected: dict, mc: dict, what: str, fix: str) -> collections.OrderedDict:
    """Names, shapes, dtypes and values of one model state_dict (keys already without prefix)."""
    if not isinstance(sd, dict) or not all(isinstance(v, torch.Tensor) for v in sd.values()):
        fail(f"{what} is not a state_dict (a dict of tensors)")
    # shapes first: a file of another width differs in shapes and in shortcut convs, and the shape names both sizes
    for k, (shape, dtype) in expected.items():
        if k not in sd:
            continue
        t = sd[k]
        if tuple(t.shape) != shape:
            fail(f"{what}: tensor '{k}' has shape {list(t.shape)} but the config's {describe_model(mc)} needs {list(shape)}; "
                 f"{fix}")
        ok = (torch.int64, torch.float32) if k.endswith(NBT) else (torch.float32,)
        if t.dtype not in ok:
            fail(f"{what}: tensor '{k}' is {t.dtype}, expected {' or '.join(map(str, ok))}")
        check_finite(what, k, t)
    missing = [k for k in expected if k not in sd]
    extra = [k for k in sd if k not in expected]
    if extra:
        if any(k.startswith(("abc_classifier.", "projection.")) for k in extra):
            fix = ("they are an ABC classifier or a rotation head: only the WRN + linear classifier of supervised, FixMatch "
                   "and FixMatch+DASO runs converts")
        fail(f"{what}: {len(extra)} tensor(s) the config's {describe_model(mc)} does not have: {', '.join(extra[:5])}{' ...' if len(extra) > 5 else ''}; "
             f"{fix}")
    if missing:
        fail(f"{what}: {len(missing)} tensor(s) of the config's {describe_model(mc)} missing: {', '.join(missing[:5])}{' ...' if len(missing) > 5 else ''}; {fix}")
    return collections.OrderedDict((k, sd[k]) for k in expected)


def jsonable(x, where: str, dropped: list):
    """Plain JSON for the metadata copy of the official extras; numpy scalars become Python numbers (exact)."""
    if isinstance(x, np.generic) and x.dtype.kind in "biuf":
        # (first: np.float64 is a float) the official meta holds numpy floats (np.median); the type comes back too
        return {NUMPY_TAG: x.dtype.str, "value": x.item()}
    if isinstance(x, (bool, str, int, float)) or x is None:
        return x
    if isinstance(x, dict):
        return {str(k): jsonable(v, f"{where}.{k}", dropped) for k, v in x.items()}
    if isinstance(x, (list, tuple)):
        return [jsonable(v, f"{where}[{i}]", dropped) for i, v in enumerate(x)]
    dropped.append(f"{where} ({type(x).__name__})")
    return None


def f32_bits_equal(a: np.ndarray, b: np.ndarray) -> bool:
    return a.dtype == b.dtype and a.shape == b.shape and a.tobytes() == b.tobytes()


# ---------------------------------------------------------------------------------------------------------------------


def load_config(path: str) -> dict:
    try:
        with open(path, encoding="utf-8") as f:
            raw = json.load(f)
    except OSError as e:
        fail(f"config '{path}': cannot read it ({e.strerror})")
    except json.JSONDecodeError as e:
        fail(f"config '{path}': not JSON ({e})")
    try:
        return check_config(raw)
    except SystemExit as e:
        fail(f"config '{path}': {e} (see docs/CONFIG.md)")


def rebuild_daso(cfg: dict, esd, path: str, lines: list):
    """DASO state rebuilt from images, by a fixed rule (docs: README "Official PyTorch checkpoints"):
      queues:     per class k, the EMA encoder's features (eval mode: BN running statistics, so a feature does not
                  depend on which images share its batch) of the LAST min(n_k, L) images of class k in x_lb, in file
                  order, oldest first; queue_len = that count; prototype = their mean (zeros for a class without
                  images, as in a fresh run). The official queue holds the EMA features of the last L labeled images
                  of each class that training drew, so this is the same quantity for a chosen set of images.
      pl_hist:    histogram of the EMA model's predicted class (argmax of its logits, eval mode) on x_ulb_w; it only
                  enters through m / max(m), so its total need not match period * Bu. pl_window = 0 (a new window
                  starts; the first refresh after it replaces pl_hist with the pseudo-labels of training).
    Images: x_lb F32 [N,C,H,W] and y_lb (I64/I32) [N], x_ulb_w F32 [M,C,H,W], normalised as training feeds them (a
    `daso step` batch file has this layout)."""
    mc, K = cfg["model"], cfg["model"]["num_classes"]
    L = cfg["daso"]["queue_size"]
    what = f"images '{path}'"
    if not os.path.isfile(path):
        fail(f"{what}: no such file (--daso-from needs x_lb, y_lb and x_ulb_w, as in a `daso step` batch file)")
    try:
        t, _ = st.read_file(path)
    except ValueError as e:
        fail(f"{e} (--daso-from needs a safetensors file)")
    img = [mc["in_channels"], mc["image_size"], mc["image_size"]]
    for k in ("x_lb", "y_lb", "x_ulb_w"):
        if k not in t:
            fail(f"{what}: tensor '{k}' is missing (--daso-from needs x_lb [N,{','.join(map(str, img))}] F32, y_lb [N] "
                 f"and x_ulb_w [M,{','.join(map(str, img))}] F32)")
    for k in ("x_lb", "x_ulb_w"):
        x = t[k]
        if x.dtype != np.float32 or x.ndim != 4 or list(x.shape[1:]) != img or x.shape[0] < 1:
            fail(f"{what}: tensor '{k}' is {x.dtype} {list(x.shape)}, expected float32 [N, {', '.join(map(str, img))}] "
                 "(model.in_channels, model.image_size of the config)")
        bad = ~np.isfinite(x)
        if bad.any():
            fail(f"{what}: tensor '{k}' has a non-finite value at index {int(np.flatnonzero(bad)[0])}")
    y = t["y_lb"]
    if y.dtype.kind not in "iu" or y.shape != (t["x_lb"].shape[0],):
        fail(f"{what}: tensor 'y_lb' is {y.dtype} {list(y.shape)}, expected integers [{t['x_lb'].shape[0]}] (one per x_lb image)")
    if ((y < 0) | (y >= K)).any():
        i = int(np.flatnonzero((y < 0) | (y >= K))[0])
        fail(f"{what}: y_lb[{i}] = {int(y[i])} is outside 0..{K - 1} (model.num_classes {K})")
    model = Model(mc)
    model.load_state_dict(esd, strict=True)
    model.eval()

    def run(x, fn):
        with torch.no_grad():
            return torch.cat([fn(torch.from_numpy(x[i:i + 256])) for i in range(0, len(x), 256)])

    feats = run(t["x_lb"], model.encoder)
    D = feats.shape[1]
    queue = torch.zeros(K, L, D)
    qlen = np.zeros(K, np.int64)
    protos = torch.zeros(K, D)
    yt = torch.from_numpy(y.astype(np.int64))
    for k in range(K):
        sel = torch.where(yt == k)[0][-L:]
        qlen[k] = len(sel)
        if len(sel):
            queue[k, :len(sel)] = feats[sel]
            protos[k] = feats[sel].mean(0)  # as the official FeatureQueue: self._bank[idx].mean(0)
    pred = run(t["x_ulb_w"], model).argmax(1)
    hist = np.bincount(pred.numpy(), minlength=K).astype(np.int64)
    empty = [k for k in range(K) if qlen[k] == 0]
    lines.append(f"daso: rebuilt from {path} with the EMA model (eval mode): queues of the last <= {L} labeled images per "
                 f"class (queue_len {qlen.tolist()}), prototypes = their means; pl_hist = the EMA's predicted classes on "
                 f"{len(pred)} unlabeled images {hist.tolist()}; pl_window = 0")
    if empty:
        lines.append(f"daso: class(es) {empty} have no labeled image: empty queue, zero prototype (cosine 0), as in a fresh run")
    if (hist == 0).any():
        lines.append(f"daso: class(es) {np.flatnonzero(hist == 0).tolist()} have pl_hist 0 (v = 0 for them until the first refresh)")
    rule = {"source": os.path.basename(path), "queue": "EMA encoder features (eval mode), last queue_size labeled images per class",
            "pl_hist": "EMA argmax (eval mode) on x_ulb_w", "n_lb": int(len(y)), "n_ulb": int(len(pred))}
    out = {
        "daso.queue": queue.numpy(),
        "daso.queue_len": qlen,
        "daso.prototypes": protos.numpy(),
        "daso.pl_hist": hist,
        "daso.pl_window": np.zeros(K, np.int64),
    }
    return out, rule


def to_project(a) -> None:
    src, out = a.official, a.out
    cfg = load_config(a.config)
    mc = cfg["model"]
    ck = load_pickle(src, a.trust_pickle)
    what = f"'{src}'"
    not_daso = (f"{what} is not an official DASO checkpoint: expected the dict that ytaek-oh/daso's save_checkpoint writes "
                f"(keys {', '.join(OFFICIAL_KEYS)})")
    if not isinstance(ck, dict):
        fail(f"{not_daso}, got a {type(ck).__name__}")
    if "model" not in ck or "optimizer" not in ck:
        if ck and all(isinstance(v, torch.Tensor) for v in ck.values()):
            fail(f"{not_daso}, got a bare state_dict ({len(ck)} tensors): it has no optimizer state or step; convert the "
                 "training checkpoint (checkpoint.pth.tar / model_final.pth.tar) instead")
        fail(f"{not_daso}, got keys {', '.join(map(str, list(ck)[:8])) or '(none)'}")
    report = []
    model, pnames, expected = reference_model(mc)
    fix = f"convert with the config of the run that wrote {what} (model.depth/width/in_channels/num_classes)"
    msd = check_state_dict(ck["model"], expected, mc, f"{what} 'model'", fix)
    extra = {}
    ema_raw = ck.get("ema_model")
    if ema_raw is None:
        esd = collections.OrderedDict((k, v.clone()) for k, v in msd.items())
        extra["ema"] = "none"
        report.append("ema: the official file has no EMA model ('ema_model' is None: a supervised run); ema.* = a copy of "
                      "the model, as the official EMAModel starts (deepcopy)")
    else:
        if not isinstance(ema_raw, dict):
            fail(f"{what} 'ema_model' is a {type(ema_raw).__name__}, not a state_dict")
        keys = list(ema_raw)
        if keys and all(k.startswith(EMA_PREFIX) for k in keys):
            ema_raw = collections.OrderedDict((k[len(EMA_PREFIX):], v) for k, v in ema_raw.items())
            extra["ema_prefix"] = EMA_PREFIX
        else:
            extra["ema_prefix"] = ""
        esd = check_state_dict(ema_raw, expected, mc, f"{what} 'ema_model'", fix)
    # optimizer
    opt = ck["optimizer"]
    if not isinstance(opt, dict) or not isinstance(opt.get("state"), dict) or not isinstance(opt.get("param_groups"), list):
        fail(f"{what} 'optimizer' is not an optimizer state_dict ({{'state': ..., 'param_groups': [...]}})")
    groups = opt["param_groups"]
    ids = [i for g in groups for i in (g.get("params", []) if isinstance(g, dict) else [])]
    if len(ids) != len(pnames):
        fail(f"{what} 'optimizer' holds {len(ids)} parameters but the config's {describe_model(mc)} has {len(pnames)}; {fix}")
    momentum, absent = {}, []
    for j, (pid, name) in enumerate(zip(ids, pnames)):
        entry = opt["state"].get(pid)
        buf = entry.get("momentum_buffer") if isinstance(entry, dict) else None
        shape = expected[name][0]
        if buf is None:
            absent.append(name)
            momentum[name] = torch.zeros(shape, dtype=torch.float32)
            continue
        if not isinstance(buf, torch.Tensor):
            fail(f"{what} 'optimizer' state[{pid}]['momentum_buffer'] (parameter '{name}') is not a tensor")
        if tuple(buf.shape) != shape:
            fail(f"{what} 'optimizer' state[{pid}]['momentum_buffer'] (parameter '{name}') has shape {list(buf.shape)} but the "
                 f"config's {describe_model(mc)} needs {list(shape)}; {fix}")
        if buf.dtype != torch.float32:
            fail(f"{what} 'optimizer' state[{pid}]['momentum_buffer'] (parameter '{name}') is {buf.dtype}, expected torch.float32")
        check_finite(f"{what} 'optimizer'", f"state[{pid}].momentum_buffer ({name})", buf)
        momentum[name] = buf
    if absent:
        extra["momentum_absent"] = absent
        report.append(f"optim.momentum: {len(absent)} of {len(pnames)} buffers absent in the official file (never stepped); "
                      "written as zeros, which PyTorch's first SGD step treats the same way")
    # step
    meta = ck.get("meta")
    it = meta.get("iter") if isinstance(meta, dict) else None
    if isinstance(it, np.integer):
        it = int(it)
    if not isinstance(it, int) or isinstance(it, bool) or it < 0:
        fail(f"{what} has no step: 'meta'['iter'] = {it!r} is not a count of steps (the official save_checkpoint writes "
             "iter + 1); without it the EMA decay and DASO schedule cannot continue")
    if it > cfg["max_iter"]:
        report.append(f"note: step {it} is past the config's max_iter {cfg['max_iter']}")
    # optimizer hyperparameters: the project trains with the config's values; say where they differ
    g0 = groups[0] if groups and isinstance(groups[0], dict) else {}
    for key in ("momentum", "nesterov", "weight_decay"):
        if key in g0 and g0[key] != cfg["optim"][key]:
            report.append(f"note: the official optimizer has {key} = {g0[key]}, the config optim.{key} = {cfg['optim'][key]}; "
                          "the project will train with the config's value")
    if "lr" in g0 and g0["lr"] != cfg["optim"]["lr"]:
        report.append(f"note: the official learning rate at this step is {g0['lr']} (scheduled); the project trains with the "
                      f"constant optim.lr = {cfg['optim']['lr']}")
    dropped = []
    extra["param_groups"] = [jsonable({k: v for k, v in g.items() if k != "params"}, f"optimizer.param_groups[{i}]", dropped)
                             for i, g in enumerate(groups)]
    extra["params_per_group"] = [len(g.get("params", [])) for g in groups]
    extra["param_ids"] = ids if ids != list(range(len(ids))) else None
    extra["scheduler"] = jsonable(ck.get("scheduler"), "scheduler", dropped)
    extra["meta"] = jsonable(meta, "meta", dropped)
    ignored = [k for k in ck if k not in OFFICIAL_KEYS]
    if ignored:
        report.append(f"ignored: top-level key(s) {', '.join(map(str, ignored))} (not part of the official layout)")
    if dropped:
        report.append(f"not kept (not JSON): {', '.join(dropped)}")

    tensors = {"step": np.array(it, dtype=np.int64)}
    for prefix, sd in (("model", msd), ("ema", esd)):
        for k, v in sd.items():
            tensors[f"{prefix}.{k}"] = v.detach().cpu().numpy().copy()
    for name in pnames:
        tensors[f"optim.momentum.{name}"] = momentum[name].detach().cpu().numpy().copy()
    metadata = {
        "converted_from": "official DASO checkpoint (ytaek-oh/daso lib/utils/checkpoint.py)",
        "source": os.path.basename(src),
        "daso_state": "absent",
        "official": json.dumps(extra, allow_nan=True),
    }
    daso_lines = []
    if a.daso_from:
        dt, rule = rebuild_daso(cfg, esd, a.daso_from, daso_lines)
        tensors.update(dt)
        metadata["daso_state"] = "rebuilt"
        metadata["daso_rebuild"] = json.dumps(rule)
    try:
        st.write_file(out, tensors, metadata)
    except OSError as e:
        fail(f"cannot write '{out}': {e.strerror} (choose a folder you can write)")
    print(f"wrote {out}: {describe_model(mc)}, step {it}; model.* and ema.* ({len(msd)} tensors each), "
          f"optim.momentum.* ({len(pnames)}), from {src}")
    if a.daso_from:
        for line in daso_lines:
            print(line)
    else:
        print("daso: absent. The official checkpoint does not save DASO's queues, prototypes or pseudo-label histograms; the "
              "file is marked daso_state=absent and is refused for algorithm 'daso' (use it with 'fixmatch' or "
              "'supervised', or convert again with --daso-from IMAGES.safetensors to rebuild the state)")
    for r in report:
        print(r)


# ---------------------------------------------------------------------------------------------------------------------


def infer_model(tensors: dict, what: str) -> dict:
    def shape(name):
        if name not in tensors:
            fail(f"{what}: tensor '{name}' is missing: not a daso-webgpu checkpoint (model.*, ema.*, optim.momentum.*, step)")
        return tensors[name].shape

    ic = shape("model.encoder.init_conv.weight")
    w16 = shape("model.encoder.unit1.0.layer.0.weight")
    k = shape("model.classifier.classifier.weight")
    n = len({name.split(".")[3] for name in tensors if name.startswith("model.encoder.unit1.")})
    if w16[0] % 16:
        fail(f"{what}: tensor 'model.encoder.unit1.0.layer.0.weight' has {w16[0]} output channels, not 16 * width")
    return {"depth": 6 * n + 4, "width": w16[0] // 16, "in_channels": ic[1], "num_classes": k[0], "image_size": 32}


def to_official(a) -> None:
    src, out = a.checkpoint, a.out
    what = f"'{src}'"
    if not os.path.isfile(src):
        fail(f"{what}: no such file")
    try:
        tensors, metadata = st.read_file(src)
    except ValueError as e:
        fail(f"{e} (not a safetensors checkpoint)")
    cfg = load_config(a.config) if a.config else None
    mc = cfg["model"] if cfg else infer_model(tensors, what)
    model, pnames, expected = reference_model(mc)
    report = []
    extra = {}
    if "official" in metadata:
        try:
            extra = from_jsonable(json.loads(metadata["official"]))
        except json.JSONDecodeError as e:
            fail(f"{what}: metadata 'official' is not JSON ({e}); remove the key to convert without it")
    daso = sorted(k for k in tensors if k.startswith("daso."))
    unknown = [k for k in tensors if k != "step" and not k.startswith(("model.", "ema.", "optim.momentum.", "daso."))]
    if unknown:
        fail(f"{what}: tensor(s) a checkpoint does not hold: {', '.join(unknown[:5])} (a `daso step --outputs` file?); "
             "give a checkpoint")
    fix = "give --config with the run's model, or check the file" if not a.config else "check --config's model"
    sds = {}
    for prefix in ("model", "ema"):
        sd = {k[len(prefix) + 1:]: torch.from_numpy(v) for k, v in tensors.items() if k.startswith(prefix + ".")}
        sds[prefix] = check_state_dict(sd, expected, mc, f"{what} '{prefix}.*'", fix)
    mom = {}
    for name in pnames:
        key = f"optim.momentum.{name}"
        if key not in tensors:
            fail(f"{what}: tensor '{key}' is missing")
        t = torch.from_numpy(tensors[key])
        if tuple(t.shape) != expected[name][0] or t.dtype != torch.float32:
            fail(f"{what}: tensor '{key}' is {t.dtype} {list(t.shape)}, expected torch.float32 {list(expected[name][0])}")
        check_finite(what, key, t)
        mom[name] = t
    extra_mom = [k for k in tensors if k.startswith("optim.momentum.") and k[len("optim.momentum."):] not in mom]
    if extra_mom:
        fail(f"{what}: tensor(s) {', '.join(extra_mom[:5])} are not parameters of {describe_model(mc)}")
    if "step" not in tensors or tensors["step"].shape != () or tensors["step"].dtype.kind not in "iu":
        fail(f"{what}: tensor 'step' (I64 []) is missing or malformed")
    step = int(tensors["step"])
    if step < 0:
        fail(f"{what}: tensor 'step' = {step} is not a step index")

    # optimizer: the parameter groups come from --config, else from the official file this one was converted from,
    # else from a training checkpoint's config; there is no safe default for a learning rate.
    N = len(pnames)
    ids = extra.get("param_ids") or list(range(N))
    sizes = extra.get("params_per_group") or [N]
    if len(ids) != N or sum(sizes) != N:
        ids, sizes = list(range(N)), [N]
    if cfg:
        o = cfg["optim"]
        sgd = torch.optim.SGD(model.parameters(), lr=o["lr"], momentum=o["momentum"], nesterov=o["nesterov"],
                              weight_decay=o["weight_decay"])
        groups = [{k: v for k, v in sgd.state_dict()["param_groups"][0].items() if k != "params"}]
        ids, sizes = list(range(N)), [N]
        report.append(f"optimizer: param_groups from --config (lr {o['lr']}, momentum {o['momentum']}, nesterov "
                      f"{o['nesterov']}, weight_decay {o['weight_decay']})")
    elif extra.get("param_groups"):
        groups = extra["param_groups"]
        if len(groups) != len(sizes):
            sizes = [N] if len(groups) == 1 else fail(f"{what}: metadata 'official' param_groups do not match params_per_group")
        report.append("optimizer: param_groups from the official file this checkpoint was converted from")
    else:
        tc = None
        try:
            tc = json.loads(metadata["config"]) if "config" in metadata else None
        except json.JSONDecodeError:
            tc = None
        o = tc.get("optim") if isinstance(tc, dict) else None
        if not isinstance(o, dict) or not all(k in o for k in ("lr", "momentum", "nesterov", "weight_decay")):
            fail(f"{what} carries no optimizer settings (no metadata 'official' or 'config'); pass --config with the run's "
                 "config so that the official param_groups get its optim.* values")
        sgd = torch.optim.SGD(model.parameters(), lr=o["lr"], momentum=o["momentum"], nesterov=o["nesterov"],
                              weight_decay=o["weight_decay"])
        groups = [{k: v for k, v in sgd.state_dict()["param_groups"][0].items() if k != "params"}]
        ids, sizes = list(range(N)), [N]
        report.append("optimizer: param_groups from the checkpoint's metadata config")
    param_groups, pos = [], 0
    for g, n in zip(groups, sizes):
        param_groups.append({**g, "params": ids[pos:pos + n]})
        pos += n
    absent = set(extra.get("momentum_absent") or [])
    state = {}
    for pid, name in zip(ids, pnames):
        t = mom[name]
        if name in absent and not bool(t.any()):
            continue  # absent in the official file it came from, and still untouched: write it back absent
        state[pid] = {"momentum_buffer": t}
    if absent:
        report.append(f"optim.momentum: {N - len(state)} all-zero buffers written absent, as in the original official file")

    ema_sd = collections.OrderedDict((extra.get("ema_prefix", EMA_PREFIX) + k, v) for k, v in sds["ema"].items())
    if extra.get("ema") == "none":
        same = all(torch.equal(sds["ema"][k], sds["model"][k]) and sds["ema"][k].dtype == sds["model"][k].dtype for k in expected)
        if same:
            ema_sd = None
            report.append("ema_model: None, as in the original official file (the EMA is still the model's copy)")
        else:
            report.append("ema_model: written (the original official file had none, but the EMA has moved since)")

    lr0 = groups[0].get("lr") if groups and isinstance(groups[0], dict) else None
    old_meta = extra.get("meta") if isinstance(extra.get("meta"), dict) else None
    if old_meta is not None and old_meta.get("iter") == step:
        meta = old_meta
        scheduler = extra.get("scheduler")
        report.append("meta, scheduler: as in the original official file")
    else:
        meta = {"iter": step}
        # The project trains with a constant learning rate. A generic _LRScheduler state: the official load_state_dict
        # updates these fields and keeps its own schedule (max_iters, warmup) from its yaml config.
        scheduler = {"base_lrs": [lr0], "last_epoch": step, "_step_count": step + 1, "verbose": False,
                     "_get_lr_called_within_step": False, "_last_lr": [lr0]}
        report.append(f"meta: {{'iter': {step}}}; scheduler: base_lrs [{lr0}], last_epoch {step} (the official run continues "
                      "with the schedule of its own config)")
    ck = {
        "model": sds["model"],
        "ema_model": ema_sd,
        "optimizer": {"state": state, "param_groups": param_groups},
        "scheduler": scheduler,
        "meta": meta,
    }
    if daso:
        report.append(f"dropped: {', '.join(daso)} (the official checkpoint has no place for DASO state; an official resume "
                      "restarts the queues and the pseudo-label histogram empty)")
    dropped_meta = [k for k in metadata if k not in ("official",)]
    if dropped_meta:
        report.append(f"dropped: metadata {', '.join(sorted(dropped_meta))} (daso-webgpu only)")
    d = os.path.dirname(os.path.abspath(out))
    try:
        fd, tmp = tempfile.mkstemp(prefix="." + os.path.basename(out) + ".", suffix=".tmp", dir=d)
    except OSError as e:
        fail(f"cannot write '{out}': {e.strerror} (choose a folder you can write)")
    try:
        with os.fdopen(fd, "wb") as f:
            torch.save(ck, f)
            f.flush()
            os.fsync(f.fileno())
        os.chmod(tmp, 0o644)
        os.replace(tmp, out)
    except BaseException:
        if os.path.exists(tmp):
            os.unlink(tmp)
        raise
    print(f"wrote {out}: {describe_model(mc)}, meta iter {step}; model, ema_model, optimizer ({len(state)} momentum "
          f"buffers), scheduler, meta, from {src}")
    for r in report:
        print(r)


def main(argv=None) -> int:
    p = argparse.ArgumentParser(prog="convert_official.py", description=__doc__.split("\n")[0])
    sub = p.add_subparsers(dest="cmd", required=True)
    s = sub.add_parser("to-project", help="official .pth -> daso-webgpu safetensors")
    s.add_argument("official")
    s.add_argument("out")
    s.add_argument("--config", required=True, help="the step/train config whose model the file must match")
    s.add_argument("--trust-pickle", action="store_true", help="unpickle without the allow-list (trusted files only)")
    s.add_argument("--daso-from", metavar="IMAGES.safetensors",
                   help="rebuild the DASO state from these images (x_lb, y_lb, x_ulb_w) instead of marking it absent")
    s = sub.add_parser("to-official", help="daso-webgpu safetensors -> official .pth")
    s.add_argument("checkpoint")
    s.add_argument("out")
    s.add_argument("--config", help="the run's config (model check and optimizer settings)")
    a = p.parse_args(argv)
    try:
        (to_project if a.cmd == "to-project" else to_official)(a)
    except ConvertError as e:
        print(f"convert: {e}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
