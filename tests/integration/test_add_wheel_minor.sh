#!/bin/bash
# A wheel with a newer minor Wheel-Version (1.9) is accepted, with a warning
# on stderr that mentions Wheel-Version.
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

C=$T/cache
W=$(mkwheel --out "$T/in" --name demo --version 1.0 --wheel-minor \
	--file demo/__init__.py=$'x = 1\n')
run_ok "$WHEELFS" add "$C" "$W"
grep -qi 'Wheel-Version' "$LAST_ERR" || fail "no warning mentioning Wheel-Version on stderr: $(cat "$LAST_ERR")"
echo "warning: $(cat "$LAST_ERR")"
[[ $(count_trees "$C") == 1 ]] || fail "expected 1 tree"
check_blobs "$C"
run_ok "$WHEELFS" ls "$C"
read -r name version _ <"$LAST_OUT"
[[ $name == demo && $version == 1.0 ]] || fail "ls: $(cat "$LAST_OUT")"
echo "ok"
