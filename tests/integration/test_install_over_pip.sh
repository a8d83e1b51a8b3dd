#!/bin/bash
# test_install_over_pip.sh — a distribution that pip installed into the
# venv (its .dist-info and files are real files in lib/, the upper layer)
# is replaced by `wheelfs install` of another version of it, as pip
# replaces it: what its RECORD lists goes (modules, __pycache__, scripts,
# launchers, data files, the .dist-info), so only the new version is
# installed.  Compared file for file with a venv that pip upgraded.
# And when pip, through the mount, replaced a version of the view (its
# RECORD gone with it), uninstalling the view's version leaves pip's files
# alone.
source "$(dirname "$0")/lib.sh"
source "$(dirname "$0")/install_lib.sh"

v1=$(mkwheel --out "$T/w" --name Demo_Pkg --version 1.0 \
	--file demo_pkg/__init__.py=$'def main():\n    print("v1")\n' \
	--file demo_pkg/old.py=$'OLD = 1\n' \
	--script old-tool=$'#!python\nprint("old-tool")\n' \
	--data-file data/share/demo/v1.txt=$'v1\n' \
	--entry-point console_scripts:demo-cli=demo_pkg:main \
	--entry-point console_scripts:demo-old=demo_pkg:main)
v2=$(mkwheel --out "$T/w" --name demo.pkg --version 2.0 \
	--file demo_pkg/__init__.py=$'def main():\n    print("v2")\n' \
	--file demo_pkg/new.py=$'NEW = 2\n' \
	--entry-point console_scripts:demo-cli=demo_pkg:main)
other=$(mkwheel --out "$T/w" --name keep --version 1.0 \
	--file keep/__init__.py=$'K = 1\n')

A=$T/pip/venv B=$T/wfs/venv
mkdir -p "$T/pip" "$T/wfs"
mkvenv "$A"
mkvenv "$B"
site=python$PYXY/site-packages

# pip installs version 1 (compiled: __pycache__ too) and another
# distribution into both venvs; then pip upgrades A, wheelfs B.
pip_install "$A" "$v1" "$other"
pip_install "$B" "$v1" "$other"
[[ -e $B/lib/$site/Demo_Pkg-1.0.dist-info/RECORD ]] || fail "pip did not install Demo_Pkg 1.0"
pip_install "$A" --no-compile "$v2"
find "$A/lib/$site" -name __pycache__ -prune -exec rm -rf {} +
run_ok "$WHEELFS" install --cache "$T/cache" "$B" "$v2"
grep -qx 'replaced demo_pkg 1.0 -> 2.0' "$LAST_OUT" || fail "no 'replaced demo_pkg 1.0 -> 2.0' line: $(cat "$LAST_OUT")"
find "$B/lib/$site/keep" -name __pycache__ -prune -exec rm -rf {} +
materialize "$B" "$T/Blib"
venvcmp "$A" "$B" "$T/Blib"
[[ ! -e $B/lib/$site/Demo_Pkg-1.0.dist-info ]] || fail "pip's Demo_Pkg-1.0.dist-info left"
[[ ! -e $B/lib/$site/demo_pkg ]] || fail "pip's files of version 1 left: $(find "$B/lib/$site/demo_pkg")"
[[ ! -e $B/bin/old-tool && ! -e $B/bin/demo-old && ! -e $B/share/demo/v1.txt ]] || fail "pip's scripts or data files of version 1 left"
[[ -e $B/lib/$site/keep/__init__.py ]] || fail "keep (pip's) was touched"
out=$(cd "$T" && PYTHONPATH=$T/Blib/$site "$B/bin/python" -S -c '
import importlib.metadata as m, demo_pkg.new
print(sorted(d.version for d in m.distributions() if d.name.lower().replace("_", ".") == "demo.pkg"))') ||
	fail "importing the new version failed: $out"
[[ $out == "['2.0']" ]] || fail "installed versions of demo.pkg: $out"

# A rerun changes nothing; uninstall leaves only pip's other distribution.
run_ok "$WHEELFS" install --cache "$T/cache" "$B" "$v2"
grep -qx 'reinstalled demo_pkg 2.0' "$LAST_OUT" || fail "no 'reinstalled' line: $(cat "$LAST_OUT")"
materialize "$B" "$T/Blib"
venvcmp "$A" "$B" "$T/Blib"
run_ok "$WHEELFS" uninstall "$B" demo-pkg
pip_run "$A" uninstall -q -y demo.pkg >/dev/null || fail "pip uninstall failed"
materialize "$B" "$T/Blib"
venvcmp "$A" "$B" "$T/Blib"

# pip upgrades the view's version 1 through the mount: it removes what
# version 1's RECORD lists (here by hand, as the mount is not needed to
# show it) and installs version 2 into the upper layer, with the same
# launcher demo-cli.  `wheelfs uninstall` of version 1, left in the view
# without a RECORD, removes what version 1 would have written but not
# version 2's launcher.
C=$T/wfs/venv2
mkvenv "$C"
run_ok "$WHEELFS" install --cache "$T/cache" "$C" "$v1"
rm -rf "$C/lib/$site/Demo_Pkg-1.0.dist-info" "$C/bin/demo-cli"
pip_install "$C" --no-compile "$v2"
run_ok "$WHEELFS" uninstall "$C" demo-pkg
grep -qx 'uninstalled Demo_Pkg 1.0' "$LAST_OUT" || fail "no 'uninstalled Demo_Pkg 1.0' line: $(cat "$LAST_OUT")"
[[ -e $C/bin/demo-cli ]] || fail "pip's launcher of version 2 was removed"
[[ ! -e $C/bin/old-tool && ! -e $C/bin/demo-old && ! -e $C/share/demo/v1.txt ]] || fail "version 1's files left"
[[ -e $C/lib/$site/demo_pkg-2.0.dist-info/RECORD && -e $C/lib/$site/demo_pkg/new.py ]] || fail "pip's version 2 was touched"
echo PASS
