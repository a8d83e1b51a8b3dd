#!/bin/bash
# test_install_reinstall_report.sh — installing the version a venv already
# has reports `reinstalled NAME VERSION` however it got there: by the same
# wheel or by adopt (whose tree is built from the venv's files, not from
# the wheel); a new version reports `replaced NAME OLD -> NEW`.
source "$(dirname "$0")/lib.sh"
source "$(dirname "$0")/install_lib.sh"

w1=$(mkwheel --out "$T/w" --name hello --version 1.0 --file hello/__init__.py='X = 1')
w2=$(mkwheel --out "$T/w2" --name hello --version 2.0 --file hello/__init__.py='X = 2')

# adopt brought it in.
V=$T/venv
mkvenv "$V"
pip_install "$V" --no-compile "$w1"
run_ok "$WHEELFS" adopt --cache "$T/cache" "$V"
run_ok "$WHEELFS" install --cache "$T/cache" "$V" "$w1"
grep -qx 'reinstalled hello 1.0' "$LAST_OUT" || fail "after adopt: $(cat "$LAST_OUT")"
# the same wheel again, then a new version
run_ok "$WHEELFS" install "$V" "$w1"
grep -qx 'reinstalled hello 1.0' "$LAST_OUT" || fail "same wheel: $(cat "$LAST_OUT")"
run_ok "$WHEELFS" install "$V" "$w2"
grep -qx 'replaced hello 1.0 -> 2.0' "$LAST_OUT" || fail "new version: $(cat "$LAST_OUT")"

echo ok
