#!/bin/bash
# Four `wheelfs add` processes add the same wheels to one (not yet existing)
# cache at once: all succeed, every blob is valid, each wheel has one tree,
# nothing is left in CACHE/tmp.
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

C=$T/cache
wheels=()
# Five synthetic wheels sharing contents (so writers race on the same blobs).
for v in 1 2 3 4 5; do
	wheels+=("$(mkwheel --out "$T/in" --name shared --version "$v.0" \
		--file-size shared/common.py=65536:common \
		--file-size shared/big.bin=1048576:big \
		--file-size "shared/own.py=16384:v$v" \
		--file shared/__init__.py= \
		--file shared/tool.sh=$'#!/bin/sh\n' --exec shared/tool.sh)")
done
pip_whl=$(ls /usr/share/python-wheels/pip-*.whl 2>/dev/null | head -n1 || true)
if [[ -n $pip_whl ]]; then
	wheels+=("$pip_whl")
else
	echo "note: no pip wheel in /usr/share/python-wheels, using 5 synthetic wheels"
fi
nwheels=${#wheels[@]}

pids=()
for i in 1 2 3 4; do
	jobs_opt=()
	((i % 2 == 0)) && jobs_opt=(-j 3)
	"$WHEELFS" add "${jobs_opt[@]}" "$C" "${wheels[@]}" >"$T/out.$i" 2>"$T/err.$i" &
	pids+=($!)
done
failed=0
for i in 1 2 3 4; do
	rc=0
	wait "${pids[i - 1]}" || rc=$?
	if [[ $rc != 0 ]]; then
		echo "process $i exited $rc; stderr:" >&2
		cat "$T/err.$i" >&2
		failed=1
	fi
	grep -Eq "(^|[^0-9])$nwheels wheels" "$T/out.$i" ||
		fail "process $i: summary does not say $nwheels wheels: $(cat "$T/out.$i")"
done
[[ $failed == 0 ]] || fail "a concurrent add failed"

check_blobs "$C"
[[ -z $(find "$C/tmp" -mindepth 1) ]] || fail "CACHE/tmp not empty"
[[ $(count_trees "$C") == "$nwheels" ]] ||
	fail "expected $nwheels trees, got $(count_trees "$C"): $(ls "$C/trees")"

run_ok "$WHEELFS" ls "$C"
[[ $(wc -l <"$LAST_OUT") == "$nwheels" ]] || fail "ls: expected $nwheels lines: $(cat "$LAST_OUT")"
dups=$(awk '{print $1, $2}' "$LAST_OUT" | sort | uniq -d)
[[ -z $dups ]] || fail "ls lists a wheel twice: $dups"
for v in 1 2 3 4 5; do
	[[ $(awk -v v="$v.0" '$1 == "shared" && $2 == v' "$LAST_OUT" | wc -l) == 1 ]] ||
		fail "ls: shared $v.0 not listed once: $(cat "$LAST_OUT")"
done
if [[ -n $pip_whl ]]; then
	grep -Eq '^pip ' "$LAST_OUT" || fail "ls: pip missing: $(cat "$LAST_OUT")"
fi

# Every content of every synthetic wheel is there.
for w in "${wheels[@]:0:5}"; do
	d=$T/x/$(basename "$w")
	unpack_wheel "$w" "$d"
	while IFS= read -r -d '' f; do
		b=$(blob_of "$f" "$C")
		cmp -s "$f" "$b" || fail "no or bad blob for ${f#"$d"/} of $(basename "$w")"
	done < <(find "$d" -type f -print0)
done
echo "ok"
