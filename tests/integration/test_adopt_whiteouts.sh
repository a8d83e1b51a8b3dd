#!/bin/bash
# adopt after pip worked through a mount: `pip install` of foo 2.0 over the
# view's foo 1.0 (pip uninstalls 1.0 first: whiteouts, then foo/ made again:
# an opaque directory) leaves real files that adopt takes into the view and
# frees.  The whiteout records over them must go too, or the mount (and
# pin) would hide foo 2.0 behind them.
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
. "$WFS_LIB_DIR/mount_lib.sh"
[[ -n $PIP_WHL ]] || skip "no pip wheel"

C=$T/cache
V=$T/venv
W=$T/wheels
mkdir -p "$W"
foo1=$(pure_wheel "$W" foo 1.0)
foo2=$(pure_wheel "$W" foo 2.0)
mkvenv "$V"
vinstall "$C" "$V" "$PIP_WHL" "$foo1"
S=$(site_of "$V")
version() { vpy "$V" -c 'import foo, foo.util; print(foo.VERSION)'; }

mnt "$V"
run_ok vpy "$V" -m pip install --no-deps --no-index "$foo2"
[[ $(version) == 2.0 ]] || fail "pip install foo 2.0 through the mount: $(version)"
umnt "$V"
grep -q "^o python$PYXY/site-packages/foo\$" "$V/lib/.wheelfs/whiteouts" ||
	fail "no opaque record for foo/: $(cat "$V/lib/.wheelfs/whiteouts")"

run_ok "$WHEELFS" adopt --cache "$C" "$V"
grep -q "adopted foo 2.0" "$LAST_OUT" || fail "adopt did not take foo 2.0: $(cat "$LAST_OUT")"
[[ ! -e $S/foo/__init__.py ]] || fail "adopt did not free foo's real files"
# The journal's last line for a path is in force (wheelfs-view(5)).
last=$(awk -v p="python$PYXY/site-packages/foo" '$2 == p { t = $1 } END { print t }' \
	"$V/lib/.wheelfs/whiteouts")
[[ -z $last || $last == - ]] || fail "the record '$last' over foo/ is still in force"
mnt "$V"
[[ $(version) == 2.0 ]] || fail "after adopt, foo imports as '$(version)' through the mount"
umnt "$V"
run_ok "$WHEELFS" pin -q "$V/lib"
mv "$C" "$T/cache.away"
[[ $(version) == 2.0 ]] || fail "after pin, without the cache, foo imports as '$(version)'"
echo ok
