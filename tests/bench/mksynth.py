#!/usr/bin/python3
"""mksynth.py — a synthetic wheel with N small files, for mount-time benchmarks.

    mksynth.py --out DIR --files N [--name synth_N] [--per-dir 100]

Files are synth_N/dXXXX/mYYY.py with distinct one-line contents, 100 per
directory, stored (not deflated), with a RECORD.  Deterministic: the same
arguments give the same bytes; an existing wheel is kept.  Prints the path.
"""
import argparse
import base64
import hashlib
import os
import sys
import zipfile

DATE = (2020, 1, 1, 0, 0, 0)


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--out", required=True)
    p.add_argument("--files", type=int, required=True)
    p.add_argument("--name")
    p.add_argument("--per-dir", type=int, default=100)
    a = p.parse_args()
    name = a.name or f"synth_{a.files}"
    ver = "1.0"
    path = os.path.join(a.out, f"{name}-{ver}-py3-none-any.whl")
    if os.path.exists(path):
        print(path)
        return
    os.makedirs(a.out, exist_ok=True)
    di = f"{name}-{ver}.dist-info"
    rec = []
    tmp = path + ".tmp"
    with zipfile.ZipFile(tmp, "w", zipfile.ZIP_STORED) as zf:
        def add(p, data):
            zi = zipfile.ZipInfo(p, DATE)
            zi.external_attr = 0o100644 << 16
            zf.writestr(zi, data)
            h = base64.urlsafe_b64encode(hashlib.sha256(data).digest())
            rec.append(f"{p},sha256={h.rstrip(b'=').decode()},{len(data)}")
        add(f"{name}/__init__.py", b"")
        for i in range(a.files):
            add(f"{name}/d{i // a.per_dir:05d}/m{i % a.per_dir:03d}.py",
                f"X = {i}\n".encode())
        add(f"{di}/METADATA",
            f"Metadata-Version: 2.1\nName: {name}\nVersion: {ver}\n".encode())
        add(f"{di}/WHEEL", b"Wheel-Version: 1.0\nGenerator: mksynth\n"
            b"Root-Is-Purelib: true\nTag: py3-none-any\n")
        rec.append(f"{di}/RECORD,,")
        zi = zipfile.ZipInfo(f"{di}/RECORD", DATE)
        zi.external_attr = 0o100644 << 16
        zf.writestr(zi, "\n".join(rec) + "\n")
    os.rename(tmp, path)
    print(path)


if __name__ == "__main__":
    sys.exit(main())
