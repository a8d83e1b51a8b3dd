#!/bin/bash
# test_pin_crash.sh — kill -9 at any point, then a rerun completes.  A
# power failure's torn files are found and placed again too.
# Nothing half-written ever carries a final name: after the kill every file
# present is right (pin_check --partial), the view is not pinned, and the
# rerun removes the temp files the killed run left, finishes, and gives the
# same tree as a pin that was never interrupted.
#   1. a deterministic crash: the test hook WFS_TEST_PIN_CRASH_AT=N makes pin
#      SIGKILL itself between writing its N-th file under a temp name and
#      placing it (named temps: WFS_TEST_PIN_NO_TMPFILE=1);
#   2. kill -9 from outside while pin runs slowed down
#      (WFS_TEST_PIN_DELAY_US), with the default O_TMPFILE temps;
#   3. kill -9 of a symlink-mode pin (named temp symlinks).
source "$(dirname "$0")/lib.sh"
source "$WFS_LIB_DIR/pin_lib.sh"
[[ -n $PIP_WHL ]] || skip "no /usr/share/python-wheels/pip-*.whl (python3-pip-whl)"

C=$T/cache
demo=$(mkwheel --out "$T/w" --name demo --version 1.0 \
	--file demo/__init__.py='X = 1' --symlink demo/alias.py=__init__.py)
wheels=("$demo" "$PIP_WHL")

# The reference: a pin that ran to the end.
pin_venv "$C" "$T/ref" "${wheels[@]}"
run_ok "$WHEELFS" pin --mode copy "$T/ref/lib"
pin_snapshot "$T/ref/lib" >"$T/ref.snap"

after_crash() { # LIB: the state a killed pin leaves
	[[ $(pin_view_pinned "$1") == 0 ]] || fail "a killed pin marked the view pinned"
	[[ -e $1/.wheelfs/pinning ]] || fail "no journal after a killed pin"
	pin_check --partial "$1" "${wheels[@]}" || fail "a wrong file under a final name after kill -9"
}

rerun() { # LIB [ARGS]: the rerun completes and matches the reference
	local lib=$1
	shift
	run_ok "$WHEELFS" pin "$@" "$lib"
	echo "rerun: $(cat "$LAST_OUT")"
	grep -q "completed an interrupted pin" "$LAST_OUT" || fail "the rerun did not notice the crash"
	[[ $(pin_view_pinned "$lib") == 1 ]] || fail "the rerun did not mark the view pinned"
	[[ ! -e $lib/.wheelfs/pinning ]] || fail "the journal is left after the rerun"
	[[ -z $(pin_leftovers "$lib") ]] || fail "temp files left after the rerun: $(pin_leftovers "$lib")"
}

# 1. Deterministic: killed with a named temp file in place.
pin_venv "$C" "$T/v1" "${wheels[@]}"
rc=0
WFS_TEST_PIN_NO_TMPFILE=1 WFS_TEST_PIN_CRASH_AT=200 "$WHEELFS" pin --mode copy -j 1 "$T/v1/lib" \
	>"$T/out1" 2>&1 || rc=$?
[[ $rc == 137 ]] || fail "pin with WFS_TEST_PIN_CRASH_AT did not die by SIGKILL (exit $rc): $(cat "$T/out1")"
after_crash "$T/v1/lib"
left=$(pin_leftovers "$T/v1/lib" | wc -l)
[[ $left == 1 ]] || fail "expected the one temp file of the killed job, found $left"
placed=$(find "$T/v1/lib/python$PYVER/site-packages/pip" -type f | wc -l)
((placed > 100)) || fail "only $placed files placed before the crash"
# A power failure would also leave placed files empty or torn (pin does not
# fsync them one by one): make two so, keeping their mtime.
"$PY" - "$T/v1/lib/python$PYVER/site-packages/pip" <<'PYEOF' || fail "could not tear files"
import os, sys
d = sys.argv[1]
for name, how in (("__init__.py", "empty"), ("__main__.py", "torn")):
    p = os.path.join(d, name)
    st = os.stat(p)
    with open(p, "r+b") as f:
        if how == "empty":
            f.truncate(0)
        else:
            f.write(b"\0" * 16)
    os.utime(p, ns=(st.st_atime_ns, st.st_mtime_ns))
PYEOF
rerun "$T/v1/lib" --mode copy
grep -q "(1 temp files removed, 2 torn files placed again)" "$LAST_OUT" ||
	fail "the rerun did not remove the temp file and repair the torn files"
pin_check "$T/v1/lib" "${wheels[@]}" || fail "the rerun's venv is wrong"
pin_snapshot "$T/v1/lib" | diff -u "$T/ref.snap" - || fail "crash + rerun differs from an uninterrupted pin"

# 2. kill -9 from outside, at whatever point it lands.
pin_venv "$C" "$T/v2" "${wheels[@]}"
WFS_TEST_PIN_DELAY_US=3000 "$WHEELFS" pin --mode copy "$T/v2/lib" >"$T/out2" 2>&1 &
pid=$!
for ((i = 0; i < 600; i++)); do # until some files are placed (or it ended)
	n=$(find "$T/v2/lib/python$PYVER/site-packages/pip" -type f 2>/dev/null | wc -l) || true
	((n >= 50)) && break
	kill -0 $pid 2>/dev/null || break
	sleep 0.05
done
kill -9 $pid 2>/dev/null || true
wait $pid 2>/dev/null || true
if [[ $(pin_view_pinned "$T/v2/lib") == 1 ]]; then
	echo "note: pin finished before the kill landed"
else
	after_crash "$T/v2/lib"
	rerun "$T/v2/lib" --mode copy
fi
pin_check "$T/v2/lib" "${wheels[@]}" || fail "the rerun's venv is wrong"
pin_snapshot "$T/v2/lib" | diff -u "$T/ref.snap" - || fail "kill + rerun differs from an uninterrupted pin"

# 3. Symlink mode: temp symlinks are named.
pin_venv "$C" "$T/v3" "${wheels[@]}"
rc=0
WFS_TEST_PIN_CRASH_AT=300 "$WHEELFS" pin --mode symlink -j 1 "$T/v3/lib" >"$T/out3" 2>&1 || rc=$?
[[ $rc == 137 ]] || fail "symlink pin did not die by SIGKILL (exit $rc)"
[[ $(pin_leftovers "$T/v3/lib" | wc -l) == 1 ]] || fail "expected one temp symlink"
[[ $(pin_view_pinned "$T/v3/lib") == 0 ]] || fail "a killed pin marked the view pinned"
rerun "$T/v3/lib" --mode symlink
pin_check --links "$T/v3/lib" "$demo" >/dev/null 2>&1 || true # symlinks: checked below
n=$(find "$T/v3/lib/python$PYVER/site-packages/pip" -type l -lname "$(realpath "$C")/blobs/*" | wc -l)
m=$(find "$T/ref/lib/python$PYVER/site-packages/pip" -type f | wc -l)
[[ $n == "$m" ]] || fail "$n of $m pip files symlinked after the rerun"

# 4. Killed placing a top-level module: its temp file is in site-packages,
# a directory of the view, not of a tree (modules named to sort before
# the .dist-info, so that they are the first jobs); the rerun removes it.
top=$(mkwheel --out "$T/w" --name top --version 1.0 --file aa_first.py='A = 1' --file ab_second.py='B = 1')
pin_venv "$C" "$T/v4" "$top"
rc=0
WFS_TEST_PIN_NO_TMPFILE=1 WFS_TEST_PIN_CRASH_AT=1 "$WHEELFS" pin --mode copy -j 1 "$T/v4/lib" \
	>"$T/out4" 2>&1 || rc=$?
[[ $rc == 137 ]] || fail "pin of top did not die by SIGKILL (exit $rc): $(cat "$T/out4")"
[[ $(pin_leftovers "$T/v4/lib" | wc -l) == 1 ]] || fail "expected one temp file in site-packages"
echo "left: $(pin_leftovers "$T/v4/lib")"
rerun "$T/v4/lib" --mode copy
pin_check "$T/v4/lib" "$top" || fail "the rerun's venv is wrong"
echo "ok"
