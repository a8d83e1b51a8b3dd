#!/bin/bash
# test_install_crosscheck.sh — `wheelfs install` does what pip does.
#
# The same wheels (every .data scheme, #!python/#!pythonw scripts, console
# and gui entry points, Root-Is-Purelib false, and Debian's pip wheel) are
# installed once by pip into venv A and once by wheelfs into venv B; B's
# view is materialized and compared with A file for file (paths, types,
# modes, contents with A's path read as B's; INSTALLER and RECORD hash lines
# excepted).  Then the launchers and scripts of both venvs run and print the
# same things.
source "$(dirname "$0")/lib.sh"
source "$(dirname "$0")/install_lib.sh"

mapfile -t wheels < <(demo_wheels "$T/wheels")
wheels+=("$PIP_WHL")

# Same basename: the venvs' prompts (in bin/activate*) match.
A=$T/pip/venv B=$T/wfs/venv
mkdir -p "$T/pip" "$T/wfs"
mkvenv "$A"
pip_install "$A" --no-compile "${wheels[@]}"
mkvenv "$B"
run_ok "$WHEELFS" install --cache "$T/cache" "$B" "${wheels[@]}"
grep -q '^installed demo_pkg 1.0$' "$LAST_OUT" || fail "no 'installed demo_pkg 1.0' line"
materialize "$B" "$T/Blib"
venvcmp "$A" "$B" "$T/Blib"

# The per-venv files are real files where pip puts them.
[[ $(head -n 1 "$B/bin/demo-tool") == "#!$B/bin/python" ]] || fail "demo-tool shebang: $(head -n 1 "$B/bin/demo-tool")"
[[ $(head -n 1 "$B/bin/demo-toolw") == "#!$B/bin/python" ]] || fail "demo-toolw shebang"
[[ $(head -n 1 "$B/bin/plain.sh") == "#!/bin/sh" ]] || fail "plain.sh was rewritten"
for f in demo-tool demo-toolw plain.sh demo-cli demo-k demo-gui other-tool pip pip3 "pip$PYXY"; do
	[[ -f $B/bin/$f && ! -L $B/bin/$f ]] || fail "bin/$f is not a real file"
	[[ $(stat -c %a "$B/bin/$f") == 755 ]] || fail "bin/$f mode $(stat -c %a "$B/bin/$f")"
done
[[ -f $B/include/site/python$PYXY/demo-pkg/sub/demo2.h ]] || fail "headers not in include/site/python$PYXY/demo-pkg"
[[ -f $B/share/demo-pkg/readme.txt && -f $B/etc/demo-pkg.conf ]] || fail "data files not under the venv"
site=python$PYXY/site-packages
for f in INSTALLER REQUESTED RECORD direct_url.json; do
	[[ -f $B/lib/$site/demo_pkg-1.0.dist-info/$f ]] || fail "$f not in the upper layer"
done
[[ $(cat "$B/lib/$site/demo_pkg-1.0.dist-info/INSTALLER") == wheelfs ]] || fail "INSTALLER"
# The wheel's own files are not copied into the venv: they are in the view.
[[ ! -e $B/lib/$site/demo_pkg && ! -e $B/lib/$site/pip ]] || fail "wheel files copied into the upper layer"
[[ ! -e $B/lib/$site/demo_pkg-1.0.dist-info/METADATA ]] || fail "METADATA copied"
# RECORD is CSV with a row for itself and no hash for it.
grep -qx 'demo_pkg-1.0.dist-info/RECORD,,' "$B/lib/$site/demo_pkg-1.0.dist-info/RECORD" || fail "RECORD row for RECORD"
grep -q '^\.\./\.\./\.\./bin/demo-cli,sha256=' "$B/lib/$site/demo_pkg-1.0.dist-info/RECORD" || fail "RECORD row for bin/demo-cli"

# Launchers and scripts run (against the materialized view) and print what
# pip's do.
runboth() {
	local a b
	a=$(cd "$T" && "$A/bin/$1" "${@:2}" 2>&1) || fail "A/bin/$1 failed: $a"
	b=$(cd "$T" && PYTHONPATH=$T/Blib/$site "$B/bin/$1" "${@:2}" 2>&1) || fail "B/bin/$1 failed: $b"
	b=${b//$T\/Blib\/$site/$A\/lib\/$site}
	[[ $a == "$b" ]] || fail "bin/$1: pip's prints '$a', wheelfs's prints '$b'"
}
runboth demo-cli x y
runboth demo-gui
runboth demo-k
runboth demo-tool
runboth other-tool
runboth pip --version
runboth "pip$PYXY" --version

# A long venv path gets distlib's /bin/sh wrapper, and still runs.
long=$T/$(printf 'v%.0s' {1..120})
mkvenv "$long"
run_ok "$WHEELFS" install --cache "$T/cache" "$long" "$T/wheels"/other_tool-*.whl
[[ $(head -n 1 "$long/bin/other-tool") == "#!/bin/sh" ]] || fail "long shebang not wrapped"
materialize "$long" "$T/Llib"
out=$(PYTHONPATH=$T/Llib/$site "$long/bin/other-tool") || fail "wrapped launcher failed"
[[ $out == other ]] || fail "wrapped launcher printed '$out'"

# Installing the same wheels again changes nothing but rewrites the files.
run_ok "$WHEELFS" install --cache "$T/cache" "$B" "${wheels[@]}"
grep -q '^reinstalled demo_pkg 1.0$' "$LAST_OUT" || fail "no 'reinstalled' line"
materialize "$B" "$T/Blib"
venvcmp "$A" "$B" "$T/Blib"
check_blobs "$T/cache"
echo PASS
