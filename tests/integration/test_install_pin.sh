#!/bin/bash
# test_install_pin.sh — install and pin together: a pinned venv runs without
# a mount; installing a new version over it removes the pinned copies (and
# __pycache__) of the old one and writes the new one's files as real files,
# so the venv stays pinned and runs the new version with nothing of the old
# one left; uninstall of a pinned distribution removes its pinned files.
source "$(dirname "$0")/lib.sh"
source "$(dirname "$0")/install_lib.sh"

site=python$PYXY/site-packages
v1=$(mkwheel --out "$T/w" --name demo --version 1.0 \
	--file demo/__init__.py=$'def main():\n    print("v1")\n' \
	--file demo/old.py=$'OLD = 1\n' \
	--entry-point console_scripts:demo=demo:main)
v2=$(mkwheel --out "$T/w" --name demo --version 2.0 \
	--file demo/__init__.py=$'def main():\n    print("v2")\n' \
	--entry-point console_scripts:demo=demo:main)
keep=$(mkwheel --out "$T/w" --name keep --version 1.0 --file keep/__init__.py=$'K = 1\n')
V=$T/venv
mkvenv "$V"

run_ok "$WHEELFS" install --cache "$T/cache" "$V" "$v1" "$keep"
run_ok "$WHEELFS" pin --mode copy "$V/lib"
grep -qx 'pinned 1' "$V/lib/.wheelfs/view" || fail "pin did not mark the view"
[[ $("$V/bin/demo") == v1 ]] || fail "the pinned venv does not run demo 1.0"
"$V/bin/python" -c 'import demo.old' || fail "import demo.old"
[[ -n $(ls "$V/lib/$site/demo/__pycache__") ]] || fail "no __pycache__ written"

run_ok "$WHEELFS" install --cache "$T/cache" "$V" "$v2"
grep -qx 'pinned 1' "$V/lib/.wheelfs/view" || fail "install unpinned the view"
[[ ! -e $V/lib/$site/demo/old.py && ! -e $V/lib/$site/demo-1.0.dist-info ]] ||
	fail "pinned files of demo 1.0 left: $(find "$V/lib/$site/demo"*)"
[[ -f $V/lib/$site/keep/__init__.py ]] || fail "keep's pinned files removed"
materialize "$V" "$T/m"
[[ -f $T/m/$site/demo/__init__.py && ! -e $T/m/$site/demo/old.py ]] || fail "the view still has demo 1.0"
[[ $("$V/bin/demo") == v2 ]] || fail "the pinned venv does not run demo 2.0"
"$V/bin/python" -c 'import demo.old' 2>/dev/null && fail "demo.old still importable"

run_ok "$WHEELFS" pin --mode copy "$V/lib"
grep -q '^nothing to pin' "$LAST_OUT" || fail "pin had work left: $(cat "$LAST_OUT")"

run_ok "$WHEELFS" uninstall "$V" demo
[[ ! -e $V/lib/$site/demo && ! -e $V/lib/$site/demo-2.0.dist-info && ! -e $V/bin/demo ]] ||
	fail "uninstall left pinned files of demo"
"$V/bin/python" -c 'import keep' || fail "keep broken by the uninstall"
echo PASS
