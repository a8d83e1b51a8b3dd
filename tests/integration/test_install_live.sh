#!/bin/bash
# test_install_live.sh — install on a mounted venv, what only a real mount
# shows: a file held open (and mapped) across the install keeps version 1's
# content while new opens get version 2's; a module imported from version
# 1 (its .pyc written through the
# mount) and replaced by version 2 of the same size and mtime (wheels built
# with fixed timestamps) must import as version 2 — the stale .pyc is gone;
# a file deleted through the mount (a whiteout) shows again, live, once a
# new version installs it (its whiteout record is dropped); launchers run
# straight from the venv; show says the
# venv is mounted; adopt refuses a mounted venv.
source "$(dirname "$0")/lib.sh"
source "$WFS_LIB_DIR/mount_lib.sh"
source "$WFS_LIB_DIR/install_lib.sh"

mk() { # VERSION VALUE
	mkwheel --out "$T/w$1" --name demo --version "$1" \
		--file demo/__init__.py=$'VALUE = '"$2"$'\ndef main():\n    print(VALUE)\n' \
		--file demo/gone.py=$'GONE = '"$2"$'\n' \
		--file demo/data/gone.txt="gone $2" \
		--entry-point console_scripts:demo=demo:main
}
v1=$(mk 1.0 1)
v2=$(mk 2.0 2)
V=$T/venv
mkvenv "$V"
vinstall "$T/cache" "$V" "$v1"
mnt "$V"
S=$(site_of "$V")

[[ $(vpy "$V" -c 'import demo; print(demo.VALUE)') == 1 ]] || fail "demo 1.0 does not import"
ls "$S/demo/__pycache__/"*.pyc >/dev/null || fail "no .pyc written through the mount"
[[ $("$V/bin/demo") == 1 ]] || fail "the launcher does not run demo 1.0"
rm "$S/demo/gone.py" || fail "cannot delete through the mount"
[[ ! -e $S/demo/gone.py ]] || fail "deleted file still there"
! ls "$S/demo" | grep -qx gone.py || fail "deleted file still listed"
# The same in a directory that exists only in the lower layer.
rm "$S/demo/data/gone.txt" || fail "cannot delete a lower-only file"
! ls "$S/demo/data" | grep -qx gone.txt || fail "deleted gone.txt still listed"

run_ok "$WHEELFS" show "$V"
grep -q "^venv: .*(mounted)" "$LAST_OUT" || fail "show does not say mounted: $(cat "$LAST_OUT")"
run_ok "$WHEELFS" show --json "$V"
grep -q '"mounted": true' "$LAST_OUT" || fail "show --json does not say mounted"
expect_fail_match "mounted; adopt works on an unmounted venv" "$WHEELFS" adopt "$V"

# A process that has demo/__init__.py open (and mapped) across the live
# install goes on reading 1.0's content, as after pip replaces a file; a
# new open reads 2.0's.
mkfifo "$T/go"
vpy "$V" - "$S/demo/__init__.py" "$T/go" >"$T/held.out" 2>&1 <<'PY' &
import mmap, os, sys
fd = os.open(sys.argv[1], os.O_RDONLY)
m = mmap.mmap(fd, 0, prot=mmap.PROT_READ)
first = os.pread(fd, 1 << 16, 0)
open(sys.argv[2]).read()  # until the install is done
again, mapped = os.pread(fd, 1 << 16, 0), m[:]
print("same" if first == again == mapped else "changed: %r %r %r" % (first, again, mapped))
PY
held=$!
vinstall "$T/cache" "$V" "$v2"
echo go >"$T/go"
wait $held || fail "the process holding demo 1.0 open failed: $(cat "$T/held.out")"
[[ $(cat "$T/held.out") == same ]] || fail "an open file changed under its reader: $(cat "$T/held.out")"
grep -q "VALUE = 2" "$S/demo/__init__.py" || fail "a new open does not read demo 2.0"
[[ $(vpy "$V" -c 'import demo; print(demo.VALUE)') == 2 ]] ||
	fail "demo 2.0 imports as $(vpy "$V" -c 'import demo; print(demo.VALUE)') (a stale .pyc?)"
[[ $("$V/bin/demo") == 2 ]] || fail "the launcher does not run demo 2.0"
# The whiteout record of gone.py is dropped, and the live mount shows the
# file again at once: in its directory's listing and to an import.
ls "$S/demo" | grep -qx gone.py || fail "the live listing still hides gone.py"
ls "$S/demo/data" | grep -qx gone.txt || fail "the live listing still hides gone.txt"
[[ $(cat "$S/demo/data/gone.txt") == "gone 2" ]] || fail "gone.txt is not 2.0's"
[[ $(vpy "$V" -c 'import demo.gone; print(demo.gone.GONE)') == 2 ]] ||
	fail "demo.gone does not import live after the reinstall"
umnt "$V"
materialize "$V" "$T/m"
[[ $(cat "$T/m/python$PYXY/site-packages/demo/gone.py") == "GONE = 2" ]] ||
	fail "the whiteout still hides demo 2.0's gone.py"
mnt "$V"
[[ $(vpy "$V" -c 'import demo.gone; print(demo.gone.GONE)') == 2 ]] || fail "demo.gone is not 2.0's"

run_ok "$WHEELFS" uninstall "$V" demo
vpy "$V" -c 'import demo' 2>/dev/null && fail "demo still importable after a live uninstall"
[[ ! -e $V/bin/demo ]] || fail "the launcher is left"
umnt "$V"
echo PASS
