"""Minimal safetensors reader/writer (numpy only, no PyPI `safetensors`).

Same format and conventions as src/nn/safetensors.ts:
  8-byte little-endian u64 N, N bytes of JSON header
  {"__metadata__"?: {str: str}, name: {"dtype", "shape", "data_offsets": [begin, end]}, ...}
  (offsets relative to the first byte after the header), then raw little-endian data.
Writing: tensors in name order (UTF-8 byte order) packed from offset 0, "__metadata__" first (keys sorted) when
non-empty, compact JSON, header padded with spaces to a multiple of 8. Dtypes: F32, F64, I32, I64, U8.
"""
from __future__ import annotations

import json
import os
import struct
import tempfile

import numpy as np

DTYPES = {
    "F32": np.dtype("<f4"),
    "F64": np.dtype("<f8"),
    "I32": np.dtype("<i4"),
    "I64": np.dtype("<i8"),
    "U8": np.dtype("u1"),
}


def _st_dtype(arr: np.ndarray, name: str) -> str:
    for k, v in DTYPES.items():
        if arr.dtype == v or arr.dtype == v.newbyteorder("="):
            return k
    raise ValueError(f"tensor '{name}' has unsupported dtype {arr.dtype} (supported: {', '.join(DTYPES)})")


def _utf8_key(s: str) -> bytes:
    return s.encode("utf-8")


def dumps(tensors: dict[str, np.ndarray], metadata: dict[str, str] | None = None) -> bytes:
    """Serialise numpy arrays (dtypes float32/float64/int32/int64/uint8; 0-d arrays are scalars) to bytes."""
    header: dict[str, object] = {}
    if metadata:
        meta = {}
        for k in sorted(metadata, key=_utf8_key):
            if not isinstance(metadata[k], str):
                raise ValueError(f"metadata '{k}' must be a string, got {type(metadata[k]).__name__}")
            meta[k] = metadata[k]
        header["__metadata__"] = meta
    chunks = []
    offset = 0
    for name in sorted(tensors, key=_utf8_key):
        if name == "__metadata__" or not name:
            raise ValueError(f"invalid tensor name {name!r}")
        arr = np.asarray(tensors[name])
        dt = _st_dtype(arr, name)
        raw = np.ascontiguousarray(arr, dtype=DTYPES[dt]).tobytes()
        header[name] = {"dtype": dt, "shape": [int(s) for s in arr.shape], "data_offsets": [offset, offset + len(raw)]}
        chunks.append(raw)
        offset += len(raw)
    hjson = json.dumps(header, separators=(",", ":"), ensure_ascii=False).encode("utf-8")
    hjson += b" " * ((8 - len(hjson) % 8) % 8)
    return struct.pack("<Q", len(hjson)) + hjson + b"".join(chunks)


def loads(data: bytes, what: str = "safetensors data") -> tuple[dict[str, np.ndarray], dict[str, str]]:
    """Parse bytes into ({name: numpy array copy}, metadata). Errors name `what` and the problem."""

    def fail(msg: str):
        raise ValueError(f"{what}: {msg}")

    if len(data) < 8:
        fail(f"file is {len(data)} bytes, shorter than the 8-byte header length")
    (n,) = struct.unpack("<Q", data[:8])
    if n > len(data) - 8:
        fail(f"header length {n} runs past the end of the file ({len(data) - 8} bytes after the length field)")
    try:
        header = json.loads(data[8 : 8 + n].decode("utf-8"))
    except UnicodeDecodeError:
        fail("header is not valid UTF-8")
    except json.JSONDecodeError as e:
        fail(f"header is not valid JSON ({e})")
    if not isinstance(header, dict):
        fail(f"header is not a JSON object (got {type(header).__name__})")
    body = memoryview(data)[8 + n :]
    tensors: dict[str, np.ndarray] = {}
    metadata: dict[str, str] = {}
    for name, entry in header.items():
        if name == "__metadata__":
            if not isinstance(entry, dict) or not all(isinstance(v, str) for v in entry.values()):
                fail("__metadata__ is not an object of strings")
            metadata = dict(entry)
            continue
        if not isinstance(entry, dict):
            fail(f"tensor '{name}': entry is not an object")
        dt = entry.get("dtype")
        if dt not in DTYPES:
            fail(f"tensor '{name}': unknown dtype {json.dumps(dt)} (supported: {', '.join(DTYPES)})")
        shape = entry.get("shape")
        if not isinstance(shape, list) or not all(isinstance(s, int) and not isinstance(s, bool) and s >= 0 for s in shape):
            fail(f"tensor '{name}': invalid shape {json.dumps(shape)}")
        offs = entry.get("data_offsets")
        if not isinstance(offs, list) or len(offs) != 2 or not all(isinstance(o, int) and o >= 0 for o in offs):
            fail(f"tensor '{name}': invalid data_offsets {json.dumps(offs)}")
        b, e = offs
        if b > e:
            fail(f"tensor '{name}': data_offsets [{b}, {e}] end before they begin")
        if e > len(body):
            fail(f"tensor '{name}': data_offsets [{b}, {e}] run past the end of the data section ({len(body)} bytes): file truncated?")
        need = int(np.prod(shape, dtype=np.int64)) * DTYPES[dt].itemsize
        if e - b != need:
            fail(f"tensor '{name}': data_offsets [{b}, {e}] hold {e - b} bytes but {dt} {shape} needs {need}")
        tensors[name] = np.frombuffer(body[b:e], dtype=DTYPES[dt]).reshape(shape).astype(DTYPES[dt].newbyteorder("="), copy=True)
    return tensors, metadata


def write_file(path: str, tensors: dict[str, np.ndarray], metadata: dict[str, str] | None = None) -> int:
    """Atomic write (temp file in the same directory, fsync, rename). Returns the size in bytes."""
    data = dumps(tensors, metadata)
    d = os.path.dirname(os.path.abspath(path))
    fd, tmp = tempfile.mkstemp(prefix="." + os.path.basename(path) + ".", suffix=".tmp", dir=d)
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(data)
            f.flush()
            os.fsync(f.fileno())
        os.chmod(tmp, 0o644)
        os.replace(tmp, path)
    except BaseException:
        if os.path.exists(tmp):
            os.unlink(tmp)
        raise
    return len(data)


def read_file(path: str) -> tuple[dict[str, np.ndarray], dict[str, str]]:
    with open(path, "rb") as f:
        return loads(f.read(), path)


if __name__ == "__main__":
    # Self-check: round trip and the byte layout of the TS test's first hand-written file.
    t = {"w": np.array([1.5, -2], np.float32), "s": np.array(0.25, np.float32)}
    b = dumps(t, {"format": "pt"})
    assert b[:8] == struct.pack("<Q", 144) and b[8:146].startswith(b'{"__metadata__":{"format":"pt"},"s":'), b[:60]
    assert b[-12:] == bytes([0, 0, 0x80, 0x3E, 0, 0, 0xC0, 0x3F, 0, 0, 0, 0xC0])
    rt, meta = loads(b)
    assert meta == {"format": "pt"} and rt["s"].shape == () and rt["w"].tolist() == [1.5, -2.0]
    many = {
        "a": np.array([1, -2], np.int64),
        "b": np.array([1.5], np.float32),
        "c": np.array([1, 2, 255], np.uint8),
        "d": np.zeros((3, 0), np.float64),
        "e": np.array([[7]], np.int32),
    }
    rt, _ = loads(dumps(many))
    for k, v in many.items():
        assert rt[k].dtype == v.dtype and rt[k].shape == v.shape and (rt[k] == v).all(), k
    for bad, msg in [(b"\x01", "shorter"), (struct.pack("<Q", 99) + b"{}", "runs past"), (struct.pack("<Q", 2) + b"[]", "not a JSON object")]:
        try:
            loads(bad, "x")
            raise AssertionError(msg)
        except ValueError as e:
            assert msg in str(e), e
    print("safetensors_io self-check ok")
