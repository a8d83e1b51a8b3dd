#!/usr/bin/python3
"""mkwheel.py — build wheels (good and deliberately broken) for the tests.

Standard library only.  The wheel written is deterministic (fixed timestamps,
entries in a fixed order), so building the same arguments twice gives the
same bytes.  The path of the wheel is printed on stdout.

A well-formed wheel:

    mkwheel.py --out DIR --name demo --version 1.0 \\
        --file demo/__init__.py='print("hi")' \\
        --file demo/tool.sh='#!/bin/sh' --exec demo/tool.sh \\
        --data-file scripts/helper='#!/bin/sh' \\
        --script demo-cli='#!/usr/bin/python3' \\
        --entry-point console_scripts:demo=demo:main \\
        --tag py3-none-any --build 1

  --file PATH=CONTENT        a file with literal CONTENT (bash $'..' for \\n)
  --file-from PATH=HOSTFILE  a file whose content is read from HOSTFILE
  --file-size PATH=N[:SEED]  N bytes of deterministic pseudo-random content
  --exec PATH                mark PATH executable (0755); created as an empty
                             shell script when not given by another option
  --symlink PATH=TARGET      a symlink entry (mode 0120777, create_system 3)
  --data-file SCHEME/PATH=CONTENT
                             {name}-{version}.data/SCHEME/PATH
  --script NAME=CONTENT      {name}-{version}.data/scripts/NAME, executable
  --entry-point GROUP:NAME=VALUE   a line of entry_points.txt
  --metadata 'Key: value'    an extra METADATA header (e.g. Requires-Dist)
  --purelib true|false       Root-Is-Purelib (default true)
  --tag PY-ABI-PLAT          compressed tag set (default py3-none-any); the
                             WHEEL file gets one Tag line per expansion
  --build N                  build tag (in the file name and WHEEL)
  --dir-entries              also write explicit directory entries ("pkg/")
  --stored                   store entries instead of deflating them
  --filename NAME            override the output file name
  --wheel-minor              Wheel-Version: 1.9 (a newer minor version: must
                             be accepted with a warning)

A broken wheel (one defect per kind, everything else valid):

  --hostile KIND, where KIND is one of HOSTILE_KINDS below:
    dotdot          an entry named "../evil" (listed in RECORD)
    absolute        an entry named "/etc/evil"
    backslash       an entry named "demo\\evil.py"
    nul             an entry whose name holds a NUL byte ("demo/evil\\0.py"),
                    written raw into the local and central headers
    duplicate       two entries named "demo/dup.py" (same content)
    symlink-escape  a symlink entry "demo/link" -> "../../etc/passwd"
    symlink-unknown a symlink "demo/link" -> "d/d/../../../x": ".." after
                    a name the wheel does not have (another wheel's
                    symlink, once installed, could make it climb out)
    symlink-data    a symlink "demo-1.0.data/scripts/evil" -> "../x" in
                    the .data directory (installed into bin/)
    encrypted       "demo/__init__.py" with the encryption flag (bit 0) set
                    in the local and central headers
    size-mismatch   "demo/core.py" declares 10 bytes, inflates to more
    bomb            "demo/zeros.bin": 20 MiB of zeros, declared as 4 KiB
    oversize        "demo/big.bin": zip64 sizes declaring 5 GiB (1 MiB of
                    zeros in fact), over the default 4 GiB per-entry cap
    corrupt-deflate bytes flipped in the middle of the deflate stream of
                    "demo/data.txt" (CRC left as it was)
    record-hash     RECORD has a wrong sha256 for "demo/core.py"
    record-size     RECORD has a wrong size for "demo/core.py"
    record-missing  "demo/core.py" is not listed in RECORD
    record-extra    RECORD lists "demo/ghost.py", which is not in the wheel
    record-rows     RECORD holds 300,000 rows "a,," (a few MB that would
                    take hundreds of MB parsed) for a wheel of a few entries
    no-record       the .dist-info directory has no RECORD
    no-distinfo     no .dist-info directory at all
    wrong-distinfo  the .dist-info directory is named for "other"
    two-distinfo    a second .dist-info directory ("extra-1.0.dist-info")
    wheel-version   WHEEL says Wheel-Version: 2.0
    bad-name        the output file is named "demo.whl" (bad grammar)

Hostile wheels get a few default files (demo/__init__.py, demo/core.py, ...)
when no --file is given, so the defect is the only thing wrong with them.

Byte-level defects are made by re-serializing the zip with a small raw writer
(write_raw) that copies every entry's compressed bytes and lets one field be
overridden, rather than by searching for byte patterns.
"""

import argparse
import base64
import csv
import hashlib
import io
import os
import re
import struct
import sys
import warnings
import zipfile
import zlib

DATE_TIME = (2020, 1, 1, 0, 0, 0)

HOSTILE_KINDS = [
    "dotdot", "absolute", "backslash", "nul", "duplicate", "symlink-escape",
    "symlink-unknown", "symlink-data",
    "encrypted", "size-mismatch", "bomb", "oversize", "corrupt-deflate",
    "record-hash", "record-size", "record-missing", "record-extra",
    "record-rows",
    "no-record", "no-distinfo", "wrong-distinfo", "two-distinfo",
    "wheel-version", "bad-name",
]

S_IFREG = 0o100000
S_IFDIR = 0o040000
S_IFLNK = 0o120000


def escape_name(name):
    """Distribution name as used in file names and .dist-info directories."""
    return re.sub(r"[-_.]+", "_", name)


def record_hash(data):
    digest = hashlib.sha256(data).digest()
    return "sha256=" + base64.urlsafe_b64encode(digest).rstrip(b"=").decode()


def pseudo_random(n, seed):
    """n deterministic bytes (sha256 in counter mode): incompressible."""
    out = bytearray()
    i = 0
    while len(out) < n:
        out += hashlib.sha256(f"{seed}:{i}".encode()).digest()
        i += 1
    return bytes(out[:n])


def expand_tags(tag):
    """'py2.py3-none-any' -> ['py2-none-any', 'py3-none-any']."""
    py, abi, plat = tag.split("-")
    return [f"{p}-{a}-{q}" for p in py.split(".") for a in abi.split(".")
            for q in plat.split(".")]


class Member:
    """One zip entry before it is written."""

    def __init__(self, path, data=b"", mode=0o644, kind="file", in_record=True):
        self.path = path
        self.data = data if isinstance(data, bytes) else data.encode()
        self.mode = mode
        self.kind = kind  # "file", "dir" or "symlink"
        self.in_record = in_record


def split_kv(arg, opt):
    if "=" not in arg:
        sys.exit(f"mkwheel: {opt} wants KEY=VALUE, got {arg!r}")
    return arg.split("=", 1)


# --------------------------------------------------------------------------
# Raw zip re-serialization (for byte-level defects).

class RawEntry:
    """An entry as stored: name bytes, header fields and compressed data."""

    def __init__(self, zf, info, blob):
        self.name = info.orig_filename.encode(
            "utf-8" if info.flag_bits & 0x800 else "cp437")
        self.flags = info.flag_bits & ~0x08  # sizes go in the local header
        self.method = info.compress_type
        y, mo, d, h, mi, s = info.date_time
        self.dostime = (h << 11) | (mi << 5) | (s // 2)
        self.dosdate = ((y - 1980) << 9) | (mo << 5) | d
        self.crc = info.CRC
        self.csize = info.compress_size
        self.usize = info.file_size
        self.external_attr = info.external_attr
        self.create_system = info.create_system
        self.zip64 = False
        # Locate the data after the local header.
        (sig,) = struct.unpack_from("<4s", blob, info.header_offset)
        assert sig == b"PK\x03\x04", "bad local header"
        nlen, xlen = struct.unpack_from("<HH", blob, info.header_offset + 26)
        start = info.header_offset + 30 + nlen + xlen
        self.data = blob[start:start + info.compress_size]


def read_raw(path):
    with open(path, "rb") as f:
        blob = f.read()
    with zipfile.ZipFile(path) as zf:
        return [RawEntry(zf, info, blob) for info in zf.infolist()]


def write_raw(path, entries):
    """Write entries as a zip: local headers + data, central directory, EOCD.
    An entry with .zip64 set gets 0xFFFFFFFF sizes and a zip64 extra field
    (tag 0x0001: uncompressed, compressed size) in both headers."""
    out = bytearray()
    central = bytearray()
    for e in entries:
        offset = len(out)
        if e.zip64:
            extra = struct.pack("<HHQQ", 0x0001, 16, e.usize, e.csize)
            usize = csize = 0xFFFFFFFF
            need = 45
        else:
            extra = b""
            usize, csize = e.usize, e.csize
            need = 20
        out += struct.pack("<4sHHHHHIIIHH", b"PK\x03\x04", need, e.flags,
                           e.method, e.dostime, e.dosdate, e.crc, csize,
                           usize, len(e.name), len(extra))
        out += e.name + extra + e.data
        central += struct.pack("<4sHHHHHHIIIHHHHHII", b"PK\x01\x02",
                               (e.create_system << 8) | need, need, e.flags,
                               e.method, e.dostime, e.dosdate, e.crc, csize,
                               usize, len(e.name), len(extra), 0, 0, 0,
                               e.external_attr, offset)
        central += e.name + extra
    eocd = struct.pack("<4sHHHHIIH", b"PK\x05\x06", 0, 0, len(entries),
                       len(entries), len(central), len(out), 0)
    with open(path, "wb") as f:
        f.write(bytes(out) + bytes(central) + eocd)


def patch_entry(path, name, fn):
    """Re-serialize the zip at path, applying fn(entry) to the entry named
    name (a str) before writing."""
    entries = read_raw(path)
    hits = [e for e in entries if e.name == name.encode()]
    assert len(hits) == 1, f"{name}: {len(hits)} entries"
    fn(hits[0])
    write_raw(path, entries)


# --------------------------------------------------------------------------
# Building.

def build_members(a):
    """The list of Members of the wheel described by the arguments (without
    the .dist-info files), in archive order."""
    members = []
    by_path = {}

    def add(m):
        members.append(m)
        by_path[m.path] = m

    for arg in a.file:
        p, content = split_kv(arg, "--file")
        add(Member(p, content))
    for arg in a.file_from:
        p, host = split_kv(arg, "--file-from")
        with open(host, "rb") as f:
            add(Member(p, f.read()))
    for arg in a.file_size:
        p, spec = split_kv(arg, "--file-size")
        n, _, seed = spec.partition(":")
        add(Member(p, pseudo_random(int(n), seed or p)))
    for arg in a.symlink:
        p, target = split_kv(arg, "--symlink")
        add(Member(p, target, mode=0o777, kind="symlink"))
    data_dir = f"{escape_name(a.name)}-{a.version}.data"
    for arg in a.data_file:
        p, content = split_kv(arg, "--data-file")
        if "/" not in p:
            sys.exit(f"mkwheel: --data-file wants SCHEME/PATH, got {p!r}")
        add(Member(f"{data_dir}/{p}", content))
    for arg in a.script:
        n, content = split_kv(arg, "--script")
        add(Member(f"{data_dir}/scripts/{n}", content, mode=0o755))
    for p in a.exec:
        if p in by_path:
            by_path[p].mode = 0o755
        else:
            add(Member(p, "#!/bin/sh\n", mode=0o755))
    return members


def default_files(a):
    """Files given to hostile wheels when none were asked for."""
    a.file = [
        "demo/__init__.py=from .core import main\n",
        "demo/core.py=" + "".join(f"def f{i}():\n    return {i}\n"
                                  for i in range(60)),
        "demo/sub/__init__.py=",
        "demo/sub/mod.py=VALUE = 42\n",
    ]


def dist_info_files(a, members, distinfo, wheel_version="1.0"):
    """METADATA, WHEEL and entry_points.txt (without RECORD)."""
    meta = (f"Metadata-Version: 2.1\nName: {a.name}\nVersion: {a.version}\n"
            f"Summary: test wheel built by mkwheel.py\n")
    for line in a.metadata:
        meta += line.rstrip("\n") + "\n"
    wheel = (f"Wheel-Version: {wheel_version}\n"
             f"Generator: mkwheel.py (wheelfs tests)\n"
             f"Root-Is-Purelib: {a.purelib}\n")
    for t in expand_tags(a.tag):
        wheel += f"Tag: {t}\n"
    if a.build:
        wheel += f"Build: {a.build}\n"
    out = [Member(f"{distinfo}/METADATA", meta), Member(f"{distinfo}/WHEEL", wheel)]
    if a.entry_point:
        groups = {}
        for arg in a.entry_point:
            k, v = split_kv(arg, "--entry-point")
            if ":" not in k:
                sys.exit(f"mkwheel: --entry-point wants GROUP:NAME=VALUE, got {arg!r}")
            g, n = k.split(":", 1)
            groups.setdefault(g, []).append(f"{n} = {v}")
        text = "".join(f"[{g}]\n" + "".join(l + "\n" for l in lines) + "\n"
                       for g, lines in groups.items())
        out.append(Member(f"{distinfo}/entry_points.txt", text))
    return out


def make_record(members, record_path, tweak=None):
    """RECORD text listing every member (but directories and members with
    in_record False), RECORD itself last with empty hash and size.  tweak
    may rewrite a row: tweak(row) -> row or None (drop it)."""
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\n")
    for m in members:
        if m.kind == "dir" or not m.in_record:
            continue
        row = [m.path, record_hash(m.data), str(len(m.data))]
        if tweak:
            row = tweak(row)
            if row is None:
                continue
        w.writerow(row)
    w.writerow([record_path, "", ""])
    return buf.getvalue()


def add_dir_entries(members):
    seen = set()
    out = []
    for m in members:
        parts = m.path.split("/")[:-1]
        for i in range(1, len(parts) + 1):
            d = "/".join(parts[:i])
            if d and d not in seen:
                seen.add(d)
                out.append(Member(d + "/", b"", mode=0o755, kind="dir"))
        out.append(m)
    return out


def write_zip(path, members, stored=False):
    comp = zipfile.ZIP_STORED if stored else zipfile.ZIP_DEFLATED
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # "Duplicate name" for --hostile duplicate
        with zipfile.ZipFile(path, "w") as zf:
            for m in members:
                zi = zipfile.ZipInfo(m.path, DATE_TIME)
                zi.create_system = 3
                if m.kind == "dir":
                    zi.external_attr = ((S_IFDIR | m.mode) << 16) | 0x10
                    zi.compress_type = zipfile.ZIP_STORED
                elif m.kind == "symlink":
                    zi.external_attr = (S_IFLNK | 0o777) << 16
                    zi.compress_type = zipfile.ZIP_STORED
                else:
                    zi.external_attr = (S_IFREG | m.mode) << 16
                    zi.compress_type = comp
                zf.writestr(zi, m.data)


def build(a):
    hostile = a.hostile
    if hostile and not (a.file or a.file_from or a.file_size):
        default_files(a)
    esc = escape_name(a.name)
    distinfo = f"{esc}-{a.version}.dist-info"
    build_part = f"-{a.build}" if a.build else ""
    filename = a.filename or f"{esc}-{a.version}{build_part}-{a.tag}.whl"

    members = build_members(a)
    record_tweak = None
    wheel_version = "1.9" if a.wheel_minor else "1.0"

    # Defects made at the member level.
    if hostile == "dotdot":
        members.append(Member("../evil", "evil\n"))
    elif hostile == "absolute":
        members.append(Member("/etc/evil", "evil\n"))
    elif hostile == "backslash":
        members.append(Member("demo\\evil.py", "evil = 1\n"))
    elif hostile == "nul":
        members.append(Member("demo/evil_.py", "evil = 1\n"))  # '_' -> NUL below
    elif hostile == "duplicate":
        members.append(Member("demo/dup.py", "dup = 1\n"))
        members.append(Member("demo/dup.py", "dup = 1\n", in_record=False))
    elif hostile == "symlink-escape":
        members.append(Member("demo/link", "../../etc/passwd", kind="symlink"))
    elif hostile == "symlink-unknown":
        members.append(Member("demo/link", "d/d/../../../x", kind="symlink"))
    elif hostile == "symlink-data":
        members.append(Member("demo-1.0.data/scripts/evil", "../x",
                              kind="symlink"))
    elif hostile == "bomb":
        members.append(Member("demo/zeros.bin", bytes(20 << 20)))
    elif hostile == "oversize":
        members.append(Member("demo/big.bin", bytes(1 << 20)))
    elif hostile == "corrupt-deflate":
        text = "".join(hashlib.sha256(str(i).encode()).hexdigest() + "\n"
                       for i in range(2000))  # ~130 KiB, deflates to ~50%
        members.append(Member("demo/data.txt", text))
    elif hostile == "record-hash":
        record_tweak = lambda r: ([r[0], record_hash(b"not the content"), r[2]]
                                  if r[0] == "demo/core.py" else r)
    elif hostile == "record-size":
        record_tweak = lambda r: ([r[0], r[1], str(int(r[2]) + 1)]
                                  if r[0] == "demo/core.py" else r)
    elif hostile == "record-missing":
        record_tweak = lambda r: None if r[0] == "demo/core.py" else r
    elif hostile == "wrong-distinfo":
        distinfo = f"other-{a.version}.dist-info"
    elif hostile == "wheel-version":
        wheel_version = "2.0"
    elif hostile == "bad-name":
        filename = a.filename or f"{esc}.whl"

    if hostile != "no-distinfo":
        members += dist_info_files(a, members, distinfo, wheel_version)
        if hostile == "two-distinfo":
            members.append(Member(f"extra-{a.version}.dist-info/METADATA",
                                  f"Metadata-Version: 2.1\nName: extra\n"
                                  f"Version: {a.version}\n"))
        record_path = f"{distinfo}/RECORD"
        if hostile != "no-record":
            text = make_record(members, record_path, record_tweak)
            if hostile == "record-rows":
                text += "a,,\n" * 300000
            if hostile == "record-extra":
                text = text.replace(f"{record_path},,",
                                    f"demo/ghost.py,{record_hash(b'ghost')},5\n"
                                    f"{record_path},,")
            members.append(Member(record_path, text))

    if a.dir_entries:
        members = add_dir_entries(members)

    os.makedirs(a.out, exist_ok=True)
    path = os.path.join(a.out, filename)
    write_zip(path, members, stored=a.stored)

    # Defects made at the byte level.
    if hostile == "nul":
        def f(e):
            e.name = b"demo/evil\x00.py"
        patch_entry(path, "demo/evil_.py", f)
    elif hostile == "encrypted":
        def f(e):
            e.flags |= 0x1
        patch_entry(path, "demo/__init__.py", f)
    elif hostile == "size-mismatch":
        def f(e):
            assert e.usize > 10
            e.usize = 10
        patch_entry(path, "demo/core.py", f)
    elif hostile == "bomb":
        def f(e):
            e.usize = 4096
        patch_entry(path, "demo/zeros.bin", f)
    elif hostile == "oversize":
        def f(e):
            e.usize = 5 << 30
            e.zip64 = True
        patch_entry(path, "demo/big.bin", f)
    elif hostile == "corrupt-deflate":
        def f(e):
            assert e.method == zipfile.ZIP_DEFLATED and e.csize > 1024
            d = bytearray(e.data)
            mid = len(d) // 2
            for i in range(mid, mid + 64):
                d[i] ^= 0xFF
            e.data = bytes(d)
        patch_entry(path, "demo/data.txt", f)
    return path


def main(argv=None):
    p = argparse.ArgumentParser(
        description="Build a test wheel (see the module docstring).")
    p.add_argument("--out", required=True, help="output directory")
    p.add_argument("--name", default="demo")
    p.add_argument("--version", default="1.0")
    p.add_argument("--file", action="append", default=[], metavar="PATH=CONTENT")
    p.add_argument("--file-from", action="append", default=[], metavar="PATH=HOSTFILE")
    p.add_argument("--file-size", action="append", default=[], metavar="PATH=N[:SEED]")
    p.add_argument("--exec", action="append", default=[], metavar="PATH")
    p.add_argument("--symlink", action="append", default=[], metavar="PATH=TARGET")
    p.add_argument("--data-file", action="append", default=[],
                   metavar="SCHEME/PATH=CONTENT")
    p.add_argument("--script", action="append", default=[], metavar="NAME=CONTENT")
    p.add_argument("--entry-point", action="append", default=[],
                   metavar="GROUP:NAME=VALUE")
    p.add_argument("--metadata", action="append", default=[], metavar="'Key: value'")
    p.add_argument("--purelib", default="true", choices=["true", "false"])
    p.add_argument("--tag", default="py3-none-any")
    p.add_argument("--build", default="")
    p.add_argument("--dir-entries", action="store_true")
    p.add_argument("--stored", action="store_true")
    p.add_argument("--filename")
    p.add_argument("--wheel-minor", action="store_true")
    p.add_argument("--hostile", choices=HOSTILE_KINDS)
    a = p.parse_args(argv)
    print(build(a))


if __name__ == "__main__":
    main()
