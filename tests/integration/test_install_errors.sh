#!/bin/bash
# test_install_errors.sh — clear one-line errors, exit status 1, and nothing
# written to the venv: unknown venv, no pyvenv.cfg, no version in it, a bad
# --python, a bad or missing wheel, another cache or Python than the view's.
source "$(dirname "$0")/lib.sh"
source "$(dirname "$0")/install_lib.sh"

good=$(mkwheel --out "$T/w" --name good --version 1.0 --file good/__init__.py=)
bad=$(mkwheel --out "$T/w" --name demo --version 1.0 --hostile record-hash)

one_line() {
	[[ $LAST_RC == 1 ]] || fail "exit status $LAST_RC, not 1"
	[[ $(wc -l <"$LAST_ERR") == 1 ]] || fail "not one line: $(cat "$LAST_ERR")"
}

expect_fail_match "$T/nope: no such virtual environment" \
	"$WHEELFS" install --cache "$T/cache" "$T/nope" "$good"
one_line
[[ ! -e $T/nope ]] || fail "created the venv"

mkdir -p "$T/plain/lib"
expect_fail_match "plain/pyvenv.cfg: missing; not a virtual environment" \
	"$WHEELFS" install --cache "$T/cache" "$T/plain" "$good"
one_line
[[ -z $(ls -A "$T/plain/lib") ]] || fail "wrote into a directory that is not a venv"

mkdir -p "$T/nover"
echo 'home = /usr/bin' >"$T/nover/pyvenv.cfg"
expect_fail_match "nover/pyvenv.cfg: no version key; pass --python" \
	"$WHEELFS" install --cache "$T/cache" "$T/nover" "$good"
one_line
[[ ! -e $T/nover/lib ]] || fail "wrote into a venv without a version"
expect_fail_match "--python 3: not X.Y" \
	"$WHEELFS" install --cache "$T/cache" --python 3 "$T/nover" "$good"
run_ok "$WHEELFS" install --cache "$T/cache" --python 3.12 "$T/nover" "$good"
[[ -f $T/nover/lib/python3.12/site-packages/good-1.0.dist-info/RECORD ]] || fail "--python 3.12 not used"
grep -qx 'python 3.12' "$T/nover/lib/.wheelfs/view" || fail "the view does not say python 3.12"
# uv's spelling.
mkdir -p "$T/uv"
printf 'home = /usr/bin\nimplementation = CPython\nversion_info = 3.10.4\n' >"$T/uv/pyvenv.cfg"
run_ok "$WHEELFS" install --cache "$T/cache" "$T/uv" "$good"
[[ -d $T/uv/lib/python3.10/site-packages/good-1.0.dist-info ]] || fail "version_info not read"

V=$T/venv
mkvenv "$V"
before=$(tree_snapshot "$V")
expect_fail_match "record-hash|does not match RECORD" \
	"$WHEELFS" install --cache "$T/cache" "$V" "$good" "$bad"
[[ $(tree_snapshot "$V") == "$before" ]] || fail "the venv changed after a bad wheel"
expect_fail_match "missing\.whl" "$WHEELFS" install --cache "$T/cache" "$V" "$T/missing.whl"
[[ $(tree_snapshot "$V") == "$before" ]] || fail "the venv changed after a missing wheel"

# The view records its cache and Python.
run_ok "$WHEELFS" install --cache "$T/cache" "$V" "$good"
after=$(tree_snapshot "$V")
expect_fail_match "uses the cache .*/cache, not .*/other" \
	"$WHEELFS" install --cache "$T/other" "$V" "$good"
one_line
# Options may follow the operands, as pip users write them.
run_ok "$WHEELFS" install "$V" "$good" --cache "$T/cache" -q
[[ ! -s $LAST_OUT ]] || fail "-q after the operands was not taken"
run_ok "$WHEELFS" show "$V" --json
"$PY" -c 'import json,sys; json.load(open(sys.argv[1]))' "$LAST_OUT" || fail "show VENV --json is not JSON"
# Without --cache, the view's cache is used whatever the environment says.
WHEELFS_CACHE_DIR=$T/elsewhere run_ok "$WHEELFS" install "$V" "$good"
[[ ! -e $T/elsewhere ]] || fail "WHEELFS_CACHE_DIR overrode the view's cache"
expect_fail_match "view is for python $PYXY, not 3.1" \
	"$WHEELFS" install --python 3.1 "$V" "$good"

# A damaged blob is never installed as a real file: a data file copied
# from the cache, and a #!python script read from it, each fail naming the
# file and the remedy.
for kind in data script; do
	rm -rf "$T/dc" "$T/dv" "$T/dw"
	if [[ $kind == data ]]; then
		content=readme-ok
		spec=(--data-file "data/share/dmg/readme.txt=$content")
	else
		content=$'#!python\nprint(1)\n'
		spec=(--script "dmg-tool=$content")
	fi
	dmg=$(mkwheel --out "$T/dw" --name dmg --version 1.0 --file dmg/__init__.py= "${spec[@]}")
	run_ok "$WHEELFS" add "$T/dc" "$dmg"
	printf '%s' "$content" >"$T/content"
	blob=$(blob_of "$T/content" "$T/dc")
	[[ -f $blob ]] || fail "no blob for the $kind file"
	chmod u+w "$blob"
	printf '%s' "${content/[1k]/X}" >"$blob"
	mkvenv "$T/dv"
	expect_fail_match "does not hash to its blob's name.*verify --repair" \
		"$WHEELFS" install --cache "$T/dc" "$T/dv" "$dmg"
	one_line
	[[ ! -e $T/dv/share/dmg/readme.txt && ! -e $T/dv/bin/dmg-tool ]] ||
		fail "a damaged $kind blob was installed"
	[[ -z $(find "$T/dv" -name '*tmp*') ]] || fail "a temp file was left"
done

# Usage errors exit 2.
_wfs_run "$WHEELFS" install "$V"
[[ $LAST_RC == 2 ]] || fail "usage error exit status $LAST_RC"
echo PASS
