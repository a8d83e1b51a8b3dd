#!/bin/bash
# The venv's RECORD has one row per path, and for the files wheelfs writes
# itself (INSTALLER, REQUESTED, direct_url.json) the hash and size of what
# it wrote, also when the wheel shipped files of those names.
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
. "$WFS_LIB_DIR/install_lib.sh"

V=$T/venv
mkvenv "$V"
whl=$(mkwheel --out "$T/w" --name shipped --version 1.0 --file shipped/__init__.py= \
	--file shipped-1.0.dist-info/INSTALLER=$'other\n' \
	--file 'shipped-1.0.dist-info/direct_url.json={}')
run_ok "$WHEELFS" install --cache "$T/cache" "$V" "$whl"
run_ok "$PY" - "$V/lib/python$PYXY/site-packages" <<'PY'
import base64, csv, hashlib, os, sys
site = sys.argv[1]
di = os.path.join(site, "shipped-1.0.dist-info")
rows = list(csv.reader(open(os.path.join(di, "RECORD"), newline="")))
paths = [r[0] for r in rows]
assert len(paths) == len(set(paths)), "a path listed twice: %s" % paths
for name in ("INSTALLER", "direct_url.json", "REQUESTED"):
    rel = "shipped-1.0.dist-info/" + name
    row = [r for r in rows if r[0] == rel]
    assert row, "no row for " + rel
    data = open(os.path.join(site, rel), "rb").read()
    want = "sha256=" + base64.urlsafe_b64encode(
        hashlib.sha256(data).digest()).rstrip(b"=").decode()
    assert row[0][1] == want and row[0][2] == str(len(data)), \
        "%s: RECORD says %s,%s; the file is %s,%d" % (rel, row[0][1], row[0][2], want, len(data))
assert open(os.path.join(di, "INSTALLER")).read() == "wheelfs\n"
print("ok")
PY
echo ok
