#!/bin/bash
# 8 concurrent importers on a fresh mount (all racing to write the same
# .pyc files through the upper layer), single-threaded and with 4 threads;
# then 8 more on the warm mount.  Every process must succeed and see the
# right module contents.
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
. "$WFS_LIB_DIR/mount_lib.sh"
[[ -n $PIP_WHL ]] || skip "no pip wheel"

C=$T/cache
W=$T/wheels
mkdir -p "$W"
args=()
for i in $(seq 0 39); do
	args+=(--file "many/m$i.py=V = $i"$'\n'"import many.m$(((i + 1) % 40)) as _next")
done
many=$(mkwheel --out "$W" --name many --version 1.0 --file many/__init__.py= "${args[@]}")

importer() { # VENV ID
	vpy "$1" -c '
import sys, importlib
import pip._internal.cli.main, pip._internal.req, pip._vendor.rich.console
for i in range(40):
    m = importlib.import_module(f"many.m{i}")
    assert m.V == i, (i, m.V)
print("ok", sys.argv[1])' "$2"
}

for opts in "" threads=4; do
	V=$T/venv${opts:+-mt}
	mkvenv "$V"
	vinstall "$C" "$V" "$PIP_WHL" "$many"
	mnt "$V" "$opts"
	for round in cold warm; do
		pids=()
		for i in $(seq 1 8); do
			importer "$V" "$i" >"$T/imp.$i.out" 2>&1 &
			pids+=($!)
		done
		for i in "${!pids[@]}"; do
			wait "${pids[i]}" || {
				cat "$T/imp.$((i + 1)).out"
				fail "importer $((i + 1)) failed ($round, ${opts:-single-threaded})"
			}
			grep -q "^ok $((i + 1))$" "$T/imp.$((i + 1)).out" || fail "importer $((i + 1)): $(cat "$T/imp.$((i + 1)).out")"
		done
		echo "$round: 8 importers ok (${opts:-single-threaded})"
	done
	n=$(find "$(site_of "$V")/many/__pycache__" -name '*.pyc' | wc -l)
	[[ $n == 41 ]] || fail "expected 41 .pyc files, found $n"
	umnt "$V"
	[[ ! -s $MOUNT_LOG ]] || { cat "$MOUNT_LOG"; fail "the daemon logged something"; }
done
echo ok
