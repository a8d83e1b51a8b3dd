#!/bin/bash
# test_show_pip_removed.sh — `wheelfs show` after `pip uninstall` through
# the mount: the distribution pip removed (whiteouts over its files and its
# .dist-info) is marked removed in `show` and `show --json` ("removed":
# true) and left out of the totals, mounted or not, as `pip list` leaves it
# out; the others are not marked.  `wheelfs uninstall` of it then drops it
# from the view, and `wheelfs install` brings it back.  A pinned view whose
# distribution pip removed (its real .dist-info deleted) shows it removed.
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
. "$WFS_LIB_DIR/mount_lib.sh"
[[ -n $PIP_WHL ]] || skip "no pip wheel"

C=$T/cache
V=$T/venv
alpha=$(pure_wheel "$T/w" alpha 1.0)
beta=$(pure_wheel "$T/w" beta 2.0)
mkvenv "$V"
vinstall "$C" "$V" "$PIP_WHL" "$alpha" "$beta"
mnt "$V"
pip() { vpy "$V" -m pip "$@"; }
run_ok pip uninstall -y beta
run_ok pip list --format=freeze
grep -q '^beta==' "$LAST_OUT" && fail "pip list still shows beta"

check_show() {
	run_ok "$WHEELFS" show "$V"
	grep -q '^beta  *2\.0 .*(removed: its \.dist-info is gone from the venv)$' "$LAST_OUT" ||
		fail "show ($1): beta not marked removed: $(cat "$LAST_OUT")"
	grep '^alpha ' "$LAST_OUT" | grep -q removed && fail "show ($1): alpha marked: $(cat "$LAST_OUT")"
	grep -q '^2 distributions, .* (not counting 1 removed)$' "$LAST_OUT" ||
		fail "show ($1) totals: $(cat "$LAST_OUT")"
	run_ok "$WHEELFS" show --json "$V"
	"$PY" - "$LAST_OUT" <<'PYEOF' || fail "show --json ($1): $(cat "$LAST_OUT")"
import json, sys
d = json.load(open(sys.argv[1]))
by = {x["name"]: x for x in d["distributions"]}
assert by["beta"]["removed"] is True, by["beta"]
assert by["alpha"]["removed"] is False and by["pip"]["removed"] is False
assert d["total"]["distributions"] == 2, d["total"]
assert d["total"]["files"] == by["alpha"]["files"] + by["pip"]["files"], d["total"]
PYEOF
}
check_show mounted
umnt "$V"
check_show unmounted

# uninstall drops it from the view; install brings it back.
run_ok "$WHEELFS" uninstall "$V" beta
grep -qx 'uninstalled beta 2.0' "$LAST_OUT" || fail "uninstall: $(cat "$LAST_OUT")"
run_ok "$WHEELFS" show "$V"
grep -q '^beta ' "$LAST_OUT" && fail "beta still in show after uninstall"
run_ok "$WHEELFS" install "$V" "$beta"
run_ok "$WHEELFS" show --json "$V"
grep -q '"name": "beta", "version": "2.0", .*"removed": false' "$LAST_OUT" ||
	fail "show after reinstall: $(cat "$LAST_OUT")"
mnt "$V"
run_ok pip list --format=freeze
grep -qx 'beta==2.0' "$LAST_OUT" || fail "pip list lacks beta after reinstall"

# A pinned view: pip deletes real files.
run_ok "$WHEELFS" pin "$V/lib"
run_ok pip uninstall -y beta
umnt "$V"
run_ok "$WHEELFS" show --json "$V"
"$PY" -c 'import json,sys; d=json.load(open(sys.argv[1])); b=[x for x in d["distributions"] if x["name"]=="beta"][0]; assert b["removed"] is True, b' "$LAST_OUT" ||
	fail "pinned: $(cat "$LAST_OUT")"
echo ok
