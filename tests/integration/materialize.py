#!/usr/bin/python3
"""materialize.py — what a mounted VENV/lib would show, as a plain directory.

    materialize.py WHEELFS VENV DEST

Builds DEST (which must not exist) the way the mount composes VENV/lib,
without FUSE, for tests that check install/adopt results file by file:

  1. the lower layer: every path of `WHEELFS show --files --json VENV`
     (directories, symlinks, and files copied from their cache blobs), with
     the mode and mtime the view gives them;
  2. the whiteouts of VENV/lib/.wheelfs/whiteouts (upper.h): a whited-out
     path is removed, an opaque directory loses its lower content;
  3. the upper layer: everything under VENV/lib (the venv is not mounted, so
     that is the underlying directory) except .wheelfs and the mount's
     hidden temp names, copied over the lower layer (files replace files;
     modes and mtimes kept).

Standard library only; prints nothing on success.
"""

import json
import os
import shutil
import stat
import subprocess
import sys

STATE = ".wheelfs"
TMP_PREFIX = ".wheelfs-tmp-"


def unescape(s):
    out = bytearray()
    b = s.encode("utf-8", "surrogateescape")
    i = 0
    while i < len(b):
        if b[i] == 0x25 and i + 2 < len(b):
            out.append(int(b[i + 1:i + 3], 16))
            i += 3
        else:
            out.append(b[i])
            i += 1
    return out.decode("utf-8", "surrogateescape")


def read_whiteouts(lib):
    path = os.path.join(lib, STATE, "whiteouts")
    recs = {}
    try:
        with open(path, encoding="utf-8", errors="surrogateescape") as f:
            text = f.read()
    except FileNotFoundError:
        return recs
    lines = text.split("\n")
    if not text.endswith("\n"):
        lines = lines[:-1]  # a torn last line is ignored
    for line in lines[1:]:
        if len(line) < 3 or line[1] != " ":
            continue
        kind, p = line[0], unescape(line[2:])
        if kind == "-":
            recs.pop(p, None)
        elif kind in "wo":
            recs[p] = kind
    return recs


def remove(path):
    if os.path.islink(path) or not os.path.isdir(path):
        try:
            os.unlink(path)
        except FileNotFoundError:
            pass
    else:
        shutil.rmtree(path)


def main():
    wheelfs, venv, dest = sys.argv[1:4]
    lib = os.path.join(venv, "lib")
    out = subprocess.run([wheelfs, "show", "--files", "--json", venv],
                         check=True, capture_output=True).stdout
    files = json.loads(out)["files"]
    os.mkdir(dest)
    dirs = []
    for e in files:
        p = os.path.join(dest, e["path"])
        if e["type"] == "dir":
            os.makedirs(p, exist_ok=True)
            dirs.append(e)
        elif e["type"] == "symlink":
            os.symlink(e["target"], p)
            os.utime(p, ns=(e["mtime_sec"] * 10**9 + e["mtime_nsec"],) * 2,
                     follow_symlinks=False)
        else:
            shutil.copyfile(e["blob"], p)
            os.chmod(p, e["mode"])
            os.utime(p, ns=(e["mtime_sec"] * 10**9 + e["mtime_nsec"],) * 2)
    for e in dirs:
        os.chmod(os.path.join(dest, e["path"]), e["mode"])

    for p, kind in read_whiteouts(lib).items():
        target = os.path.join(dest, p)
        if kind == "w":
            remove(target)
        elif os.path.isdir(target) and not os.path.islink(target):
            for name in os.listdir(target):
                remove(os.path.join(target, name))

    for root, dnames, fnames in os.walk(lib):
        rel = os.path.relpath(root, lib)
        if rel == ".":
            dnames[:] = [d for d in dnames if d != STATE]
        dnames[:] = [d for d in dnames if not d.startswith(TMP_PREFIX)]
        for d in dnames:
            src = os.path.join(root, d)
            dst = os.path.normpath(os.path.join(dest, rel, d))
            if os.path.islink(src):
                remove(dst)
                os.symlink(os.readlink(src), dst)
                continue
            if os.path.lexists(dst) and not os.path.isdir(dst):
                remove(dst)
            os.makedirs(dst, exist_ok=True)
            os.chmod(dst, stat.S_IMODE(os.lstat(src).st_mode))
        for f in fnames:
            if f.startswith(TMP_PREFIX):
                continue
            src = os.path.join(root, f)
            dst = os.path.normpath(os.path.join(dest, rel, f))
            if os.path.lexists(dst):
                remove(dst)
            if os.path.islink(src):
                os.symlink(os.readlink(src), dst)
            else:
                shutil.copy2(src, dst)


if __name__ == "__main__":
    main()
