#!/bin/bash
# test_pin_live.sh — pinning a mounted venv.
#   1. Four Python processes keep importing modules (and reading a data
#      file, listing package directories, writing .pyc files through the
#      mount) while `wheelfs pin` runs through the daemon's DIRFD and then
#      sends RELOAD; none of them sees an error.  Afterwards the view is
#      pinned, the cache can be removed while still mounted, and after
#      `wheelfs umount` the directory is a plain, complete venv lib.
#   2. kill -9 of a live pin, then a live rerun completes.
#   3. A live pin and an offline pin of the same venv give the same tree.
source "$(dirname "$0")/lib.sh"
source "$WFS_LIB_DIR/pin_lib.sh"
[[ -n $PIP_WHL ]] || skip "no /usr/share/python-wheels/pip-*.whl (python3-pip-whl)"
pin_have_mount || skip "no \`wheelfs mount\` in this build"
[[ -e /dev/fuse ]] || skip "no /dev/fuse"

C=$T/cache
demo=$(mkwheel --out "$T/w" --name demo --version 1.0 \
	--file demo/__init__.py='X = 42' \
	--file-size demo/data.bin=2000000:3 \
	--symlink demo/alias.py=__init__.py)
wheels=("$demo" "$PIP_WHL")
datahash=$(pin_member_xxh "$demo" demo/data.bin)

# 1. Pin under load.
pin_venv "$C" "$T/v" "${wheels[@]}"
L=$T/v/lib
pin_mount "$C" "$L"
cat >"$T/load.py" <<'PYEOF'
import importlib, os, subprocess, sys, traceback
me, stopfile, want = sys.argv[1], sys.argv[2], sys.argv[3]
mods = ["demo", "demo.alias", "pip", "pip._internal.cli.main", "pip._internal.req",
        "pip._vendor.packaging.version", "pip._vendor.rich.console",
        "pip._internal.commands.install", "pip._vendor.urllib3"]
site = os.path.dirname(os.path.dirname(importlib.import_module("pip").__file__))
n = 0
try:
    while not os.path.exists(stopfile):
        for m in list(sys.modules):
            if m == "demo" or m.startswith(("demo.", "pip")):
                del sys.modules[m]
        importlib.invalidate_caches()
        for m in mods:
            importlib.import_module(m)
        assert sys.modules["demo"].X == 42
        with open(os.path.join(site, "demo", "data.bin"), "rb") as f:
            data = f.read()
        out = subprocess.run(["xxh128sum"], input=data, capture_output=True, check=True).stdout
        assert out.split()[0].decode() == want, "data.bin changed"
        assert "main.py" in os.listdir(os.path.join(site, "pip", "_internal", "cli"))
        n += 1
        with open(me + ".count", "w") as f:
            f.write(str(n))
except BaseException:
    with open(me + ".err", "w") as f:
        traceback.print_exc(file=f)
    sys.exit(1)
PYEOF
pids=()
for i in 1 2 3 4; do
	"$T/v/bin/python" "$T/load.py" "$T/p$i" "$T/stop" "$datahash" &
	pids+=($!)
done
wfs_on_exit "touch '$T/stop'; wait ${pids[*]} 2>/dev/null"
count() { cat "$T/p$1.count" 2>/dev/null || echo 0; }
wait_counts() { # every process passes MIN iterations (or one fails)
	local i ok
	for ((t = 0; t < 1200; t++)); do
		ok=1
		for i in 1 2 3 4; do
			[[ -e $T/p$i.err ]] && fail "importer $i failed: $(cat "$T/p$i.err")"
			(($(count $i) >= ${2:-0} + $1)) || ok=0
		done
		((ok)) && return 0
		sleep 0.1
	done
	fail "the importers are stuck"
}
wait_counts 2
run_ok env WFS_TEST_PIN_DELAY_US=2000 "$WHEELFS" pin "$L"
echo "live: $(cat "$LAST_OUT")"
grep -Eq '^pinned [0-9]+ files' "$LAST_OUT" || fail "unexpected summary"
after=0
for i in 1 2 3 4; do (($(count $i) > after)) && after=$(count $i); done
wait_counts 2 "$after" # everyone goes on after the RELOAD
# Pinned and reloaded: the mount no longer needs the cache.
mv "$C" "$T/cache.away"
wait_counts 2 "$after"
wait_counts 4 "$after"
touch "$T/stop"
for p in "${pids[@]}"; do wait "$p" || fail "an importer exited with an error: $(cat "$T"/p*.err 2>/dev/null)"; done
run_ok "$T/v/bin/python" -m pip --version
run_ok "$WHEELFS" umount "$L"
mountpoint -q "$L" && fail "still mounted"
[[ $(pin_view_pinned "$L") == 1 ]] || fail "the view is not pinned"
pin_check "$L" "${wheels[@]}" || fail "the unmounted venv is wrong"
run_ok "$T/v/bin/python" -c 'import demo, pip; assert demo.X == 42'
run_ok "$T/v/bin/python" -m pip list --disable-pip-version-check
grep -Eq '^demo +1\.0' "$LAST_OUT" || fail "pip list does not show demo"
mv "$T/cache.away" "$C"

# 2. kill -9 of a live pin (the test hook WFS_TEST_PIN_CRASH_AT makes pin
#    SIGKILL itself with a file written but not placed), then a live rerun.
pin_venv "$C" "$T/k" "${wheels[@]}"
pin_mount "$C" "$T/k/lib"
rc=0
WFS_TEST_PIN_CRASH_AT=150 "$WHEELFS" pin "$T/k/lib" >"$T/k.out" 2>&1 || rc=$?
[[ $rc == 137 ]] || fail "the live pin did not die by SIGKILL (exit $rc)"
run_ok "$T/k/bin/python" -c 'import demo, pip; assert demo.X == 42'
run_ok "$WHEELFS" pin "$T/k/lib"
echo "live rerun: $(cat "$LAST_OUT")"
grep -q "completed an interrupted pin" "$LAST_OUT" || fail "the rerun did not notice the crash"
run_ok "$T/k/bin/python" -c 'import demo, pip; assert demo.X == 42'
run_ok "$WHEELFS" umount "$T/k/lib"
pin_check "$T/k/lib" "${wheels[@]}" || fail "kill -9 + live rerun: wrong venv"
[[ -z $(pin_leftovers "$T/k/lib") ]] || fail "temp files left"
[[ $(pin_view_pinned "$T/k/lib") == 1 ]] || fail "the view is not pinned"

# 3. Live and offline pins agree.
pin_venv "$C" "$T/a" "${wheels[@]}"
pin_venv "$C" "$T/b" "${wheels[@]}"
pin_mount "$C" "$T/a/lib"
run_ok "$WHEELFS" pin "$T/a/lib"
run_ok "$WHEELFS" umount "$T/a/lib"
run_ok "$WHEELFS" pin "$T/b/lib"
diff -u <(pin_snapshot "$T/a/lib") <(pin_snapshot "$T/b/lib") || fail "live and offline pins differ"
echo "ok"
