#!/usr/bin/python3
"""venvcmp.py — compare a venv installed by pip with one installed by wheelfs.

    venvcmp.py A B BLIB
    venvcmp.py --listing DIR [--mtime]

A is a venv pip installed into; B the venv wheelfs installed into; BLIB the
materialized view of B/lib (materialize.py).  Compared, file for file:

  - site-packages: A/lib/pythonX.Y/site-packages against
    BLIB/pythonX.Y/site-packages;
  - the venv's other files: bin/, include/ and every other top-level
    directory but lib/ and lib64, A/X against B/X;

each path's type, mode and content (symlinks: target), where the absolute
path of A in a file's content is read as B's (shebangs, launchers), and
__pycache__ is left out on both sides.  Two files differ by design:
INSTALLER ("pip" / "wheelfs") is only checked to exist, and RECORD is
compared as the set of paths it lists (hashes of rewritten files follow the
venv path; pip writes CRLF).  Differences are printed one a line; the exit
status is 1 when there is any.

--listing prints DIR as sorted lines "path type mode size sha256|target
[mtime_ns]" (no __pycache__ filtering), for snapshots.
"""

import csv
import hashlib
import os
import stat
import sys


def entries(root, skip_pycache=True, top_skip=()):
    out = {}
    if not os.path.isdir(root):
        return out
    for dirpath, dnames, fnames in os.walk(root):
        rel = os.path.relpath(dirpath, root)
        if rel == ".":
            dnames[:] = [d for d in dnames if d not in top_skip]
            fnames = [f for f in fnames if f not in top_skip]
        if skip_pycache:
            dnames[:] = [d for d in dnames if d != "__pycache__"]
        for name in dnames + fnames:
            p = os.path.normpath(os.path.join(rel, name))
            out[p] = os.path.join(dirpath, name)
    return out


def describe(path, a_root=None, b_root=None, mtime=False):
    st = os.lstat(path)
    mode = stat.S_IMODE(st.st_mode)
    if stat.S_ISLNK(st.st_mode):
        return ("symlink", mode, os.readlink(path))
    if stat.S_ISDIR(st.st_mode):
        return ("dir", mode, "")
    with open(path, "rb") as f:
        data = f.read()
    if a_root:
        data = data.replace(a_root.encode(), b_root.encode())
    d = ("file", mode, hashlib.sha256(data).hexdigest(), len(data))
    return d + ((st.st_mtime_ns,) if mtime else ())


def record_paths(path):
    with open(path, newline="", encoding="utf-8") as f:
        return sorted({row[0] for row in csv.reader(f) if row})


def compare(name, a_dir, b_dir, a_root, b_root, errors, top_skip=()):
    ea = entries(a_dir, top_skip=top_skip)
    eb = entries(b_dir, top_skip=top_skip)
    for p in sorted(set(ea) | set(eb)):
        if p not in eb:
            errors.append(f"{name}/{p}: only in the pip venv")
            continue
        if p not in ea:
            errors.append(f"{name}/{p}: only in the wheelfs venv")
            continue
        base = os.path.basename(p)
        if p.endswith(".dist-info/INSTALLER"):
            continue
        if p.endswith(".dist-info/RECORD"):
            ra, rb = record_paths(ea[p]), record_paths(eb[p])
            if ra != rb:
                errors.append(f"{name}/{p}: RECORD paths differ: "
                              f"pip-only {sorted(set(ra) - set(rb))}, "
                              f"wheelfs-only {sorted(set(rb) - set(ra))}")
            continue
        da = describe(ea[p], a_root, b_root)
        db = describe(eb[p])
        if da != db:
            errors.append(f"{name}/{p}: pip {da} != wheelfs {db} ({base})")


def main():
    if sys.argv[1] == "--listing":
        root = sys.argv[2]
        mtime = "--mtime" in sys.argv[3:]
        for p, full in sorted(entries(root, skip_pycache=False).items()):
            d = describe(full, mtime=mtime)
            print(p, *d)
        return 0
    a, b, blib = (os.path.abspath(x) for x in sys.argv[1:4])
    errors = []
    pys = [d for d in os.listdir(os.path.join(a, "lib")) if d.startswith("python")]
    for py in pys:
        compare(f"lib/{py}/site-packages",
                os.path.join(a, "lib", py, "site-packages"),
                os.path.join(blib, py, "site-packages"), a, b, errors)
    compare("venv", a, b, a, b, errors,
            top_skip=("lib", "lib64", "pyvenv.cfg"))
    for e in errors:
        print(e)
    return 1 if errors else 0


if __name__ == "__main__":
    sys.exit(main())
