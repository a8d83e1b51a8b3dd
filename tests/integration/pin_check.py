#!/usr/bin/python3
"""pin_check.py — check a pinned venv's lib directory against its wheels.

    pin_check.py [--partial] [--links] [--python X.Y] LIB WHEEL...

Every entry of every wheel that belongs in site-packages (the root,
.data/purelib and .data/platlib; not the dist-info's RECORD, which the venv
owns) must be in LIB/pythonX.Y/site-packages as a real entry of the same
type: regular files with the same bytes, the wheel's exec bit (mode 0755 or
0644) and the wheel's mtime (mktime of the zip date, as wheelfs records it);
symlinks with the same target.  Directories exist.

  --partial  entries may be missing (an interrupted pin), but the ones
             present must be right, and nothing may be half-written
  --links    files with more than one link (pinned hardlinks) keep the
             blob's mode 0444 and mtime: check their content only

Also fails on temp names (.wheelfs-tmp-pin.*) left under LIB unless
--partial.  Prints a one-line count; exits 1 listing the first problems.
"""
import os
import stat
import sys
import time
import zipfile


def wheel_entries(path, site):
    """(view path, kind, data, mode, mtime) for the wheel's lib entries."""
    out = []
    with zipfile.ZipFile(path) as zf:
        names = zf.namelist()
        distinfo = next(n.split("/")[0] for n in names
                        if n.split("/")[0].endswith(".dist-info"))
        stem = distinfo[: -len(".dist-info")]
        for info in zf.infolist():
            name = info.filename
            if name.endswith("/"):
                kind = "dir"
            elif stat.S_ISLNK(info.external_attr >> 16):
                kind = "link"
            else:
                kind = "file"
            if name == distinfo + "/RECORD":
                continue
            if name.startswith(stem + ".data/"):
                rest = name[len(stem) + 6:]
                scheme, _, sub = rest.partition("/")
                if scheme not in ("purelib", "platlib") or not sub:
                    continue
                vpath = site + "/" + sub
            else:
                vpath = site + "/" + name
            vpath = vpath.rstrip("/")
            data = zf.read(info) if kind != "dir" else b""
            mode = 0o755 if (info.external_attr >> 16) & 0o111 else 0o644
            mtime = int(time.mktime(info.date_time + (0, 0, -1)))
            out.append((vpath, kind, data, mode, mtime))
            # parent directories are part of the view too
            parent = os.path.dirname(vpath)
            while parent and parent != site:
                out.append((parent, "dir", b"", 0, 0))
                parent = os.path.dirname(parent)
    return out


def main():
    args = sys.argv[1:]
    partial = links = False
    python = "%d.%d" % sys.version_info[:2]
    while args and args[0].startswith("--"):
        a = args.pop(0)
        if a == "--partial":
            partial = True
        elif a == "--links":
            links = True
        elif a == "--python":
            python = args.pop(0)
        else:
            sys.exit("unknown option " + a)
    lib, wheels = args[0], args[1:]
    site = "python%s/site-packages" % python
    problems, checked, missing = [], 0, 0
    seen = set()
    for whl in wheels:
        for vpath, kind, data, mode, mtime in wheel_entries(whl, site):
            if (vpath, kind) in seen:
                continue
            seen.add((vpath, kind))
            full = os.path.join(lib, vpath)
            try:
                st = os.lstat(full)
            except FileNotFoundError:
                missing += 1
                if not partial:
                    problems.append("missing: " + vpath)
                continue
            checked += 1
            if kind == "dir":
                if not stat.S_ISDIR(st.st_mode):
                    problems.append("not a directory: " + vpath)
                continue
            if kind == "link":
                if not stat.S_ISLNK(st.st_mode):
                    problems.append("not a symlink: " + vpath)
                elif os.readlink(full).encode() != data:
                    problems.append("wrong symlink target: " + vpath)
                continue
            if not stat.S_ISREG(st.st_mode):
                problems.append("not a regular file: %s (mode %o)"
                                % (vpath, st.st_mode))
                continue
            with open(full, "rb") as f:
                if f.read() != data:
                    problems.append("wrong content: " + vpath)
                    continue
            if links and st.st_nlink > 1:
                continue
            if stat.S_IMODE(st.st_mode) != mode:
                problems.append("mode %o, expected %o: %s"
                                % (stat.S_IMODE(st.st_mode), mode, vpath))
            if int(st.st_mtime) != mtime:
                problems.append("mtime %d, expected %d: %s"
                                % (int(st.st_mtime), mtime, vpath))
    if not partial:
        for root, dirs, files in os.walk(lib):
            for n in dirs + files:
                if n.startswith(".wheelfs-tmp-pin."):
                    problems.append("temp file left: "
                                    + os.path.join(root, n))
    print("pin_check: %d entries checked, %d missing%s"
          % (checked, missing, ", %d problems" % len(problems)
             if problems else ""))
    if problems:
        for p in problems[:20]:
            print("  " + p, file=sys.stderr)
        sys.exit(1)


if __name__ == "__main__":
    main()
