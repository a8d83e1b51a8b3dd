#!/bin/bash
# test_uninstall_basic.sh — uninstall removes a distribution from the view
# with its scripts, launchers, headers and data files (driven by its RECORD
# in the upper layer) and its upper dist-info files; the others stay.
# Uninstalling something not installed names it, exits 1 and changes
# nothing; so does a venv without a view.  A RECORD lost in a crash is
# replaced by what install would have written.
source "$(dirname "$0")/lib.sh"
source "$(dirname "$0")/install_lib.sh"

V=$T/venv
mkvenv "$V"
site=python$PYXY/site-packages
mapfile -t wheels < <(demo_wheels "$T/w")
run_ok "$WHEELFS" install --cache "$T/cache" "$V" "${wheels[@]}"

before=$(tree_snapshot "$V")
expect_fail_match "nothere: not installed in $V" "$WHEELFS" uninstall "$V" other-tool nothere
[[ $LAST_RC == 1 ]] || fail "exit status $LAST_RC"
[[ $(tree_snapshot "$V") == "$before" ]] || fail "a failed uninstall changed the venv"

# PEP 503 names: Demo.Pkg is demo_pkg.
run_ok "$WHEELFS" uninstall "$V" Demo.Pkg
grep -qx 'uninstalled demo_pkg 1.0' "$LAST_OUT" || fail "no 'uninstalled' line"
for f in demo-tool demo-toolw plain.sh demo-cli demo-k demo-gui; do
	[[ ! -e $V/bin/$f ]] || fail "bin/$f left"
done
[[ -x $V/bin/other-tool && -x $V/bin/python ]] || fail "other files of bin/ removed"
[[ ! -e $V/include/site/python$PYXY/demo-pkg ]] || fail "headers left"
[[ ! -e $V/share/demo-pkg && ! -e $V/etc/demo-pkg.conf ]] || fail "data files left"
[[ -e $V/share/other/notes.txt ]] || fail "other_tool's data removed"
[[ ! -e $V/lib/$site/demo_pkg-1.0.dist-info ]] || fail "upper dist-info left"
grep -q demo_pkg "$V/lib/.wheelfs/view" && fail "demo_pkg still in the view"
materialize "$V" "$T/m"
[[ ! -e $T/m/$site/demo_pkg && ! -e $T/m/$site/pure_mod.py && -e $T/m/$site/other_tool/__init__.py ]] ||
	fail "the composed view still shows demo_pkg, or lost other_tool"

# A RECORD lost in a crash: uninstall removes what install wrote anyway.
run_ok "$WHEELFS" install --cache "$T/cache" "$V" "${wheels[0]}"
rm "$V/lib/$site/demo_pkg-1.0.dist-info/RECORD"
run_ok "$WHEELFS" uninstall "$V" demo-pkg
[[ ! -e $V/bin/demo-cli && ! -e $V/bin/demo-tool && ! -e $V/share/demo-pkg ]] ||
	fail "files left when the RECORD was gone"
[[ ! -e $V/lib/$site/demo_pkg-1.0.dist-info ]] || fail "upper dist-info left (no RECORD)"

# A RECORD row behind a symlinked directory is not followed out of the venv.
mkdir -p "$T/outside"
echo keep >"$T/outside/victim.txt"
ln -s "$T/outside" "$V/outside"
echo '../../../outside/victim.txt,,' >>"$V/lib/$site/other_tool-0.5.dist-info/RECORD"
run_ok "$WHEELFS" uninstall -q "$V" other_tool
[[ -f $T/outside/victim.txt ]] || fail "uninstall followed a symlink out of the venv"
[[ ! -s $LAST_OUT ]] || fail "-q printed something"
grep -q '^dist ' "$V/lib/.wheelfs/view" && fail "the view is not empty"
expect_fail_match "other_tool: not installed" "$WHEELFS" uninstall "$V" other_tool

mkvenv "$T/empty"
expect_fail_match "no wheelfs view here" "$WHEELFS" uninstall "$T/empty" x
echo PASS
