#!/bin/bash
# A live install that adds a module to a merged directory (an upper part
# over the lower one) gives it a new mtime even when its upper part
# changed in the same second: a running Python process that listed it
# before imports the new module without importlib.invalidate_caches()
# (its FileFinder keys on the directory's st_mtime, nanoseconds and all).
# The upper part's mtime is set to the start of the current second just
# before the install (a reload in a later second passes either way), as a
# pip or an editor writing there a moment before would leave it.  An
# explicit utime of such a directory after the reload shows what it set,
# as on a native directory.
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
. "$WFS_LIB_DIR/mount_lib.sh"

C=$T/cache
V=$T/venv
a=$(mkwheel --out "$T/w" --name nsa --version 1.0 --file ns/a.py='A = 1')
b=$(mkwheel --out "$T/w" --name nsb --version 1.0 --file ns/b.py='B = 1')
run_ok "$WHEELFS" add -q "$C" "$b" # the install below only composes
mkvenv "$V"
vinstall "$C" "$V" "$a"
S=$(site_of "$V")
mnt "$V"

run_ok vpy "$V" - "$WHEELFS" "$C" "$V" "$b" <<'PY'
import os, subprocess, sys, time
wfs, cache, venv, whl = sys.argv[1:5]
import ns.a
d = os.path.dirname(ns.a.__file__)
# start early in a second, so that the install ends in it
frac = time.time() % 1
if frac > 0.3:
    time.sleep(1.02 - frac)
s = int(time.time())
os.utime(d, ns=(s * 10**9, s * 10**9))  # copies ns/ up: merged
try:
    import ns.b
except ImportError:
    pass
else:
    sys.exit("ns.b importable before its install")
subprocess.run([wfs, "install", "-q", "--cache", cache, venv, whl], check=True)
after = os.stat(d).st_mtime_ns
print("upper part", s * 10**9, "after the install", after,
      "the install took", time.time() - s, "s since")
assert after != s * 10**9, "ns/ kept its mtime across the install"
import ns.b  # no invalidate_caches()
assert ns.b.B == 1
# a utime after the reload shows what it set
os.utime(d, ns=(10**9, 10**9))
assert os.stat(d).st_mtime_ns == 10**9, os.stat(d).st_mtime_ns
PY
cat "$LAST_OUT"
echo ok
