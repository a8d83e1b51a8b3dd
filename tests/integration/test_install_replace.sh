#!/bin/bash
# test_install_replace.sh — a second version replaces the first, and
# uninstall removes it, exactly as pip does (compared file for file with a
# venv pip upgraded and uninstalled).  The old version's scripts, launchers,
# headers, data files, upper dist-info files, upper copies and __pycache__
# go; a stale .pyc of a same-size, same-mtime module must not survive.
source "$(dirname "$0")/lib.sh"
source "$(dirname "$0")/install_lib.sh"

v1=$(mkwheel --out "$T/w" --name demo --version 1.0 \
	--file demo/__init__.py=$'def main():\n    print("v1")\n' \
	--file demo/a.py=$'A = 1\n' \
	--file demo/old.py=$'OLD = 1\n' \
	--script old-tool=$'#!python\nprint("old-tool")\n' \
	--data-file headers/demo.h=$'int v1;\n' \
	--data-file data/share/demo/v1.txt=$'v1\n' \
	--entry-point console_scripts:demo-cli=demo:main \
	--entry-point console_scripts:demo-old=demo:main)
v2=$(mkwheel --out "$T/w" --name demo --version 2.0 \
	--file demo/__init__.py=$'def main():\n    print("v2")\n' \
	--file demo/a.py=$'A = 2\n' \
	--file demo/new.py=$'NEW = 2\n' \
	--script new-tool=$'#!python\nprint("new-tool")\n' \
	--data-file headers/demo.h=$'int v2;\n' \
	--data-file data/share/demo/v2.txt=$'v2\n' \
	--entry-point console_scripts:demo-cli=demo:main)
other=$(mkwheel --out "$T/w" --name keep --version 1.0 \
	--file keep/__init__.py=$'K = 1\n' \
	--entry-point console_scripts:keep-cli=keep:main)

A=$T/pip/venv B=$T/wfs/venv
mkdir -p "$T/pip" "$T/wfs"
mkvenv "$A"
mkvenv "$B"
site=python$PYXY/site-packages

pip_install "$A" --no-compile "$v1" "$other"
run_ok "$WHEELFS" install --cache "$T/cache" "$B" "$v1" "$other"
materialize "$B" "$T/Blib"
venvcmp "$A" "$B" "$T/Blib"

# What a mounted venv leaves in the upper layer: a .pyc of demo/a.py (the
# import of version 1) and an edited copy of demo/old.py.
mkdir -p "$B/lib/$site/demo/__pycache__"
echo stale >"$B/lib/$site/demo/__pycache__/a.cpython-${PYXY/./}.pyc"
echo 'OLD = 99' >"$B/lib/$site/demo/old.py"

pip_install "$A" --no-compile "$v2"
run_ok "$WHEELFS" install --cache "$T/cache" "$B" "$v2"
grep -qx 'replaced demo 1.0 -> 2.0' "$LAST_OUT" || fail "no 'replaced demo 1.0 -> 2.0' line: $(cat "$LAST_OUT")"
materialize "$B" "$T/Blib"
venvcmp "$A" "$B" "$T/Blib"
[[ ! -e $B/lib/$site/demo ]] || fail "upper copies or __pycache__ of demo 1.0 left: $(find "$B/lib/$site/demo")"
[[ ! -e $B/lib/$site/demo-1.0.dist-info ]] || fail "demo-1.0.dist-info left in the upper layer"
[[ ! -e $B/bin/old-tool && ! -e $B/bin/demo-old ]] || fail "old scripts left"
[[ ! -e $B/share/demo/v1.txt && -e $B/share/demo/v2.txt ]] || fail "data files not replaced"
grep -q 'int v2' "$B/include/site/python$PYXY/demo/demo.h" || fail "header not replaced"
out=$(PYTHONPATH=$T/Blib/$site "$B/bin/demo-cli") || fail "demo-cli failed"
[[ $out == v2 ]] || fail "demo-cli prints '$out'"
run_ok "$WHEELFS" show --json "$B"
"$PY" -c 'import json, sys; d = {x["name"]: x["version"] for x in json.load(open(sys.argv[1]))["distributions"]}; assert d == {"demo": "2.0", "keep": "1.0"}, d' "$LAST_OUT" ||
	fail "show --json after the upgrade: $(cat "$LAST_OUT")"

# Uninstall, as pip does it.
pip_run "$A" uninstall -q -y demo >/dev/null || fail "pip uninstall failed"
run_ok "$WHEELFS" uninstall "$B" demo
grep -qx 'uninstalled demo 2.0' "$LAST_OUT" || fail "no 'uninstalled demo 2.0' line"
materialize "$B" "$T/Blib"
venvcmp "$A" "$B" "$T/Blib"
[[ ! -e $B/lib/$site/demo-2.0.dist-info ]] || fail "demo-2.0.dist-info left"
[[ -x $B/bin/keep-cli && -e $B/lib/$site/keep-1.0.dist-info/RECORD ]] || fail "keep was touched"
echo PASS
