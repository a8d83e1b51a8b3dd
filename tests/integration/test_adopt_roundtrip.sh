#!/bin/bash
# test_adopt_roundtrip.sh — adopt a venv pip installed (byte-compiled, so
# RECORD lists .pyc files too): the view plus the upper layer must show
# exactly what pip left (paths, types, modes, contents, mtimes), and the
# duplicates must be gone from the upper layer.  Files no RECORD lists stay
# real; an edited file stays real with a warning.  A rerun merges and
# changes nothing; a venv mixing wheelfs and pip installs is merged.
source "$(dirname "$0")/lib.sh"
source "$(dirname "$0")/install_lib.sh"

V=$T/venv
mkvenv "$V"
site=python$PYXY/site-packages
S=$V/lib/$site
mapfile -t wheels < <(demo_wheels "$T/w")
pip_install "$V" "${wheels[@]}" "$PIP_WHL"
[[ -n $(find "$S/pip" -name '*.pyc' | head -n 1) ]] || fail "pip did not byte-compile"
echo 'user notes' >"$S/notes.txt"
mkdir -p "$S/other_tool/__pycache__"
echo 'not in any RECORD' >"$S/other_tool/__pycache__/later.cpython-${PYXY/./}.pyc"
echo '# edited' >>"$S/demo_pkg/sub/mod.py"
# A RECORD row behind a symlinked directory: never adopted, never deleted.
mkdir -p "$T/outside"
echo 'X = 1' >"$T/outside/victim.py"
ln -s "$T/outside" "$S/linkdir"
echo "linkdir/victim.py,sha256=$("$PY" -c 'import base64, hashlib, sys; print(base64.urlsafe_b64encode(hashlib.sha256(open(sys.argv[1], "rb").read()).digest()).rstrip(b"=").decode())' "$T/outside/victim.py"),6" \
	>>"$S/other_tool-0.5.dist-info/RECORD"
snap=$(listing "$V/lib" --mtime)

run_ok "$WHEELFS" adopt --cache "$T/cache" "$V"
grep -q 'demo_pkg/sub/mod.py: differs from .*RECORD (edited since it was installed): kept as a real file' "$LAST_ERR" ||
	fail "no warning about the edited file: $(cat "$LAST_ERR")"
grep -q '^adopted pip 23' "$LAST_OUT" || fail "pip not adopted: $(cat "$LAST_OUT")"
grep -q '^adopted 3 distributions' "$LAST_OUT" || fail "summary: $(cat "$LAST_OUT")"

# What stays real: per-venv dist-info files, unlisted files, the edit.
real=$(cd "$V/lib" && find . -type f | sed 's|^\./||' | LC_ALL=C sort)
expected=$(
	for di in demo_pkg-1.0 other_tool-0.5 pip-${PIP_WHL##*/pip-}; do
		di=${di%%-py3-none-any.whl}
		for f in INSTALLER RECORD REQUESTED direct_url.json; do
			echo "$site/$di.dist-info/$f"
		done
	done
	echo "$site/notes.txt"
	echo "$site/other_tool/__pycache__/later.cpython-${PYXY/./}.pyc"
	echo "$site/demo_pkg/sub/mod.py"
	echo ".wheelfs/view"
) 
expected=$(echo "$expected" | LC_ALL=C sort)
[[ $real == "$expected" ]] || fail "real files after adopt:
$(diff <(echo "$expected") <(echo "$real"))"
check_blobs "$T/cache"
[[ -f $T/outside/victim.py && -L $S/linkdir ]] || fail "adopt followed a symlinked directory"

materialize "$V" "$T/m"
[[ $(listing "$T/m" --mtime) == "$snap" ]] || fail "view + upper differ from what pip installed:
$(diff <(echo "$snap") <(listing "$T/m" --mtime) | head -n 20)"

# Rerun: merged, nothing changes.
run_ok "$WHEELFS" adopt "$V"
grep -q '^adopted 0 distributions (0 files), 3 already in the view; freed 0' "$LAST_OUT" ||
	fail "rerun: $(cat "$LAST_OUT")"
materialize "$V" "$T/m"
[[ $(listing "$T/m" --mtime) == "$snap" ]] || fail "a rerun changed the venv"

# show: the adopted distributions, REQUESTED as pip wrote it.
run_ok "$WHEELFS" show --json "$V"
"$PY" - "$LAST_OUT" <<'EOF' || fail "show --json after adopt: $(cat "$LAST_OUT")"
import json, sys
d = json.load(open(sys.argv[1]))
names = sorted(x["name"] for x in d["distributions"])
assert names == ["demo-pkg", "other_tool", "pip"], names
assert all(x["requested"] for x in d["distributions"])
EOF

# A venv mixing both: wheelfs installs one, pip (the venv unmounted) another.
W=$T/mixed
mkvenv "$W"
mine=$(mkwheel --out "$T/w2" --name mine --version 1.0 --file mine/__init__.py=$'M = 1\n')
theirs=$(mkwheel --out "$T/w2" --name theirs --version 2.0 --file theirs/__init__.py=$'T = 2\n')
run_ok "$WHEELFS" install --cache "$T/cache" "$W" "$mine"
pip_install "$W" --no-compile "$theirs"
materialize "$W" "$T/m2"
snap2=$(listing "$T/m2" --mtime)
run_ok "$WHEELFS" adopt "$W"
grep -q '^adopted theirs 2.0' "$LAST_OUT" || fail "theirs not adopted: $(cat "$LAST_OUT")"
grep -q '1 already in the view' "$LAST_OUT" || fail "mine not merged: $(cat "$LAST_OUT")"
[[ ! -e $W/lib/$site/theirs/__init__.py ]] || fail "theirs's files not freed"
materialize "$W" "$T/m2"
[[ $(listing "$T/m2" --mtime) == "$snap2" ]] || fail "the mixed venv changed"
echo PASS
