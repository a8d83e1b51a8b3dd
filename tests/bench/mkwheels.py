#!/usr/bin/python3
"""Build real, valid wheels from Debian's installed python3-* packages.

For each Debian package the top-level modules and packages it installs under
/usr/lib/python3/dist-packages (found with `dpkg -L`) are packed, together
with a .dist-info made from the package's own .egg-info or .dist-info, into
    {dist}-{version}-py3-none-any.whl            (pure Python), or
    {dist}-{version}-cp3XX-cp3XX-linux_ARCH.whl  (when it holds .so files;
                                                  Root-Is-Purelib: false).
Whole top-level directories are walked, so files that Debian splits into a
companion package (python3-pandas-lib, ...) are included; symlinks are
followed (wheels hold regular files only) and dangling ones skipped;
__pycache__ and *.pyc are skipped.

Output is deterministic (sorted entries, fixed timestamps and modes, fixed
compression level), so a rerun writes byte-identical files.  An existing
output wheel is kept unless --force.

Usage:
    mkwheels.py --out DIR [--packages p1,p2] [--force] [--prune] [--quiet]
    mkwheels.py --list            # print the default Debian package names
"""

import argparse
import base64
import csv
import hashlib
import io
import os
import re
import subprocess
import sys
import sysconfig
import zipfile

SITE = "/usr/lib/python3/dist-packages"

# The default set: 25 wheels, ~14k files, ~320 MB unpacked (Debian 12).
DEFAULT_PACKAGES = [
    "python3-numpy",
    "python3-scipy",
    "python3-sympy",
    "python3-mpmath",
    "python3-django",
    "python3-pandas",
    "python3-matplotlib",
    "python3-networkx",
    "python3-botocore",
    "python3-twisted",
    "python3-sqlalchemy",
    "python3-nltk",
    "python3-pil",
    "python3-lxml",
    "python3-jinja2",
    "python3-dateutil",
    "python3-tz",
    "python3-pytest",
    "python3-docutils",
    "python3-pygments",
    "python3-requests",
    "python3-urllib3",
    "python3-tornado",
    "python3-setuptools",
    "python3-openpyxl",
]

# Top-level names some Debian packages drop into dist-packages that are not
# part of the distribution (python3-skimage ships "doc").
JUNK_TOPLEVEL = {"doc", "docs", "test", "tests", "__pycache__"}

# Files of an existing .dist-info that must not be copied: the wheel gets its
# own WHEEL and RECORD; the rest describe an installation, not a wheel.
DISTINFO_SKIP = {"RECORD", "WHEEL", "INSTALLER", "REQUESTED",
                 "direct_url.json", "RECORD.jws", "RECORD.p7s"}

FIXED_DATE = (1980, 1, 1, 0, 0, 0)
COMPRESSLEVEL = 6
GENERATOR = "wheelfs-mkwheels (1)"


def log(quiet, msg):
    if not quiet:
        print(msg, file=sys.stderr, flush=True)


def die(msg):
    print("mkwheels: " + msg, file=sys.stderr)
    sys.exit(1)


def dpkg_files(pkg):
    r = subprocess.run(["dpkg", "-L", pkg], capture_output=True, text=True)
    if r.returncode != 0:
        die("%s: not installed (dpkg -L failed: %s)" % (pkg, r.stderr.strip()))
    return r.stdout.splitlines()


def dpkg_upstream_version(pkg):
    r = subprocess.run(["dpkg-query", "-W", "-f=${Version}", pkg],
                       capture_output=True, text=True)
    v = r.stdout.strip()
    v = v.split(":", 1)[-1]            # epoch
    v = v.rsplit("-", 1)[0]            # Debian revision
    v = re.split(r"[+~]", v)[0]        # +dfsg, ~rc repacks
    return v


def toplevel_entries(pkg):
    """(top-level names, metadata path) for a Debian package."""
    tops, meta = set(), []
    for line in dpkg_files(pkg):
        if not line.startswith(SITE + "/"):
            continue
        rest = line[len(SITE) + 1:]
        if not rest or "/" in rest:
            continue
        if rest.endswith((".egg-info", ".dist-info")):
            meta.append(os.path.join(SITE, rest))
        elif rest not in JUNK_TOPLEVEL and not rest.endswith((".pyc", ".pyo")):
            tops.add(rest)
    if not tops:
        die("%s: nothing under %s" % (pkg, SITE))
    if not meta:
        die("%s: no .egg-info or .dist-info under %s" % (pkg, SITE))
    # Prefer a .dist-info, then a versioned .egg-info (python3-cryptography
    # style packages have both an unversioned and a versioned one).
    meta.sort(key=lambda m: (not m.endswith(".dist-info"), "-" not in os.path.basename(m), m))
    return sorted(tops), meta[0]


def skip_name(name):
    return name == "__pycache__" or name.endswith((".pyc", ".pyo"))


def collect_files(tops):
    """Sorted list of (arcname, source path) for the top-level entries."""
    out = {}
    for top in tops:
        path = os.path.join(SITE, top)
        if skip_name(top):
            continue
        if os.path.isfile(path):  # follows symlinks; dangling ones fail
            out[top] = path
            continue
        if not os.path.isdir(path):
            continue
        seen = set()
        for dirpath, dirnames, filenames in os.walk(path, followlinks=True):
            real = os.path.realpath(dirpath)
            if real in seen:       # symlink loop
                dirnames[:] = []
                continue
            seen.add(real)
            dirnames[:] = sorted(d for d in dirnames if not skip_name(d))
            rel = os.path.relpath(dirpath, SITE)
            for f in filenames:
                if skip_name(f):
                    continue
                src = os.path.join(dirpath, f)
                if not os.path.isfile(src):  # dangling symlink, fifo, ...
                    continue
                out[os.path.join(rel, f)] = src
    return sorted(out.items())


def read_metadata_dir(meta):
    """Dict of file name -> bytes from an .egg-info/.dist-info (dir or file)."""
    files = {}
    if os.path.isdir(meta):
        for f in sorted(os.listdir(meta)):
            p = os.path.join(meta, f)
            if os.path.isfile(p):
                with open(p, "rb") as fh:
                    files[f] = fh.read()
    else:  # a single-file .egg-info is PKG-INFO
        with open(meta, "rb") as fh:
            files["PKG-INFO"] = fh.read()
    return files


def split_headers(text):
    """(header lines, body) of an RFC 822 style METADATA/PKG-INFO."""
    lines = text.split("\n")
    for i, line in enumerate(lines):
        if line == "":
            return lines[:i], "\n".join(lines[i:])
    return lines, ""


def header_values(headers, key):
    k = key.lower() + ":"
    return [h.split(":", 1)[1].strip() for h in headers if h.lower().startswith(k)]


def requires_txt_to_dist(text):
    """Convert setuptools' requires.txt to (Requires-Dist, Provides-Extra)."""
    reqs, extras = [], []
    extra, marker = "", ""
    for raw in text.splitlines():
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        if line.startswith("[") and line.endswith("]"):
            section = line[1:-1]
            extra, _, marker = section.partition(":")
            extra = extra.strip()
            marker = marker.strip()
            if extra and extra not in extras:
                extras.append(extra)
            continue
        req, _, own = line.partition(";")
        conds = [c.strip() for c in (own, marker) if c.strip()]
        if extra:
            conds.append('extra == "%s"' % extra)
        if len(conds) > 1:
            conds = ["(%s)" % c for c in conds]
        reqs.append(req.strip() + ("; " + " and ".join(conds) if conds else ""))
    return reqs, extras


def escape_name(name):
    return re.sub(r"[-_.]+", "_", name)


def build_metadata(pkg, meta):
    """(dist name, version, {dist-info file name: bytes})."""
    src = read_metadata_dir(meta)
    is_egg = meta.endswith(".egg-info")
    raw = src.get("PKG-INFO" if is_egg else "METADATA")
    if raw is None:
        die("%s: %s has no %s" % (pkg, meta, "PKG-INFO" if is_egg else "METADATA"))
    text = raw.decode("utf-8").replace("\r\n", "\n")
    headers, body = split_headers(text)
    names = header_values(headers, "Name")
    versions = header_values(headers, "Version")
    if not names or not versions:
        die("%s: %s lacks Name or Version" % (pkg, meta))
    name, version = names[0], versions[0]
    if version in ("0.0.0", "0", "UNKNOWN", ""):
        # python3-mpmath's egg-info says 0.0.0: take Debian's upstream version
        version = dpkg_upstream_version(pkg)
        headers = [("Version: " + version) if h.lower().startswith("version:") else h
                   for h in headers]
    if is_egg and "requires.txt" in src and not header_values(headers, "Requires-Dist"):
        reqs, extras = requires_txt_to_dist(src["requires.txt"].decode("utf-8"))
        headers += ["Provides-Extra: " + e for e in extras]
        headers += ["Requires-Dist: " + r for r in reqs]
        mv = header_values(headers, "Metadata-Version")
        try:
            old = tuple(int(x) for x in mv[0].split(".")) if mv else (1, 0)
        except ValueError:
            old = (1, 0)
        if old < (2, 1):
            headers = [h for h in headers if not h.lower().startswith("metadata-version:")]
            headers.insert(0, "Metadata-Version: 2.1")
    out = {"METADATA": ("\n".join(headers) + "\n" + body).rstrip("\n").encode("utf-8") + b"\n"}
    if is_egg:
        for f in ("entry_points.txt", "top_level.txt"):
            if f in src:
                out[f] = src[f]
    else:
        for f, data in src.items():
            if f != "METADATA" and f not in DISTINFO_SKIP:
                out[f] = data
    return name, version, out


def wheel_tag(files):
    """(tag, purelib) from the extension modules among files."""
    so = [a for a, _ in files if a.endswith(".so")]
    if not so:
        return "py3-none-any", True
    for a in so:
        m = re.search(r"\.cpython-(\d)(\d+)-([A-Za-z0-9_]+)-linux-gnu\.so$", a)
        if m:
            py = "cp%s%s" % (m.group(1), m.group(2))
            return "%s-%s-linux_%s" % (py, py, m.group(3)), False
    vi = sys.version_info
    plat = sysconfig.get_platform().replace("-", "_").replace(".", "_")
    py = "cp%d%d" % (vi.major, vi.minor)
    return "%s-%s-%s" % (py, py, plat), False


def record_hash(data):
    d = hashlib.sha256(data).digest()
    return "sha256=" + base64.urlsafe_b64encode(d).rstrip(b"=").decode("ascii")


def zinfo(arcname, mode):
    zi = zipfile.ZipInfo(arcname, date_time=FIXED_DATE)
    zi.compress_type = zipfile.ZIP_DEFLATED
    zi.create_system = 3
    zi.external_attr = (0o100000 | mode) << 16
    return zi


def wheel_filename(name, version, tag):
    return "%s-%s-%s.whl" % (escape_name(name), version.replace("-", "_"), tag)


def plan(pkg):
    tops, meta = toplevel_entries(pkg)
    files = collect_files(tops)
    name, version, distinfo = build_metadata(pkg, meta)
    tag, purelib = wheel_tag(files)
    return name, version, tag, purelib, files, distinfo


def write_wheel(path, name, version, tag, purelib, files, distinfo):
    di = "%s-%s.dist-info" % (escape_name(name), version)
    distinfo = dict(distinfo)
    distinfo["WHEEL"] = ("Wheel-Version: 1.0\nGenerator: %s\nRoot-Is-Purelib: %s\nTag: %s\n"
                         % (GENERATOR, "true" if purelib else "false", tag)).encode("ascii")
    rec = io.StringIO()
    w = csv.writer(rec, lineterminator="\n")
    total = 0
    tmp = path + ".tmp.%d" % os.getpid()
    try:
        with zipfile.ZipFile(tmp, "w", zipfile.ZIP_DEFLATED,
                             compresslevel=COMPRESSLEVEL) as z:
            for arc, src in files:
                with open(src, "rb") as fh:
                    data = fh.read()
                mode = 0o755 if os.stat(src).st_mode & 0o111 else 0o644
                z.writestr(zinfo(arc, mode), data)
                w.writerow([arc, record_hash(data), len(data)])
                total += len(data)
            # .dist-info last, RECORD last of all (the usual wheel layout)
            for f in sorted(distinfo):
                arc = di + "/" + f
                z.writestr(zinfo(arc, 0o644), distinfo[f])
                w.writerow([arc, record_hash(distinfo[f]), len(distinfo[f])])
            w.writerow([di + "/RECORD", "", ""])
            z.writestr(zinfo(di + "/RECORD", 0o644), rec.getvalue().encode("utf-8"))
        os.replace(tmp, path)
    finally:
        if os.path.exists(tmp):
            os.unlink(tmp)
    return total


def wheel_stats(path):
    """(files, unpacked bytes) of an existing wheel."""
    with zipfile.ZipFile(path) as z:
        infos = [i for i in z.infolist() if not i.is_dir()]
    return len(infos), sum(i.file_size for i in infos)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--out", help="output directory (created when missing)")
    ap.add_argument("--packages", help="comma-separated Debian packages "
                    "(python3- prefix optional); default: the benchmark set")
    ap.add_argument("--force", action="store_true", help="rewrite existing wheels")
    ap.add_argument("--prune", action="store_true",
                    help="remove other *.whl files from --out (stale versions)")
    ap.add_argument("--list", action="store_true",
                    help="print the default Debian package names and exit")
    ap.add_argument("--quiet", "-q", action="store_true")
    a = ap.parse_args()
    if a.list:
        print("\n".join(DEFAULT_PACKAGES))
        return 0
    if not a.out:
        ap.error("--out is required")
    pkgs = DEFAULT_PACKAGES
    if a.packages:
        pkgs = [p if p.startswith("python3-") else "python3-" + p
                for p in (x.strip() for x in a.packages.split(",")) if p]
    os.makedirs(a.out, exist_ok=True)

    n_wheels = n_files = n_bytes = n_whl_bytes = 0
    made = set()
    for pkg in pkgs:
        name, version, tag, purelib, files, distinfo = plan(pkg)
        fn = wheel_filename(name, version, tag)
        path = os.path.join(a.out, fn)
        if os.path.exists(path) and not a.force:
            nf, nb = wheel_stats(path)
            log(a.quiet, "keep   %s" % fn)
        else:
            write_wheel(path, name, version, tag, purelib, files, distinfo)
            nf, nb = wheel_stats(path)
            log(a.quiet, "wrote  %s (%d files, %.1f MB)" % (fn, nf, nb / 1e6))
        made.add(fn)
        n_wheels += 1
        n_files += nf
        n_bytes += nb
        n_whl_bytes += os.path.getsize(path)
    if a.prune:
        for f in sorted(os.listdir(a.out)):
            if f.endswith(".whl") and f not in made:
                os.unlink(os.path.join(a.out, f))
                log(a.quiet, "prune  %s" % f)
    print("wheels: %d, files: %d, unpacked: %.1f MB, wheel files: %.1f MB, in %s"
          % (n_wheels, n_files, n_bytes / 1e6, n_whl_bytes / 1e6, a.out))
    return 0


if __name__ == "__main__":
    sys.exit(main())
