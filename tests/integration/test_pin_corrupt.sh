#!/bin/bash
# test_pin_corrupt.sh — a damaged blob is never placed.  Every mode checks
# the XXH3-128 of what it places against the blob's name (copy: while
# copying; hardlink and symlink: the blob, by a verifier thread running
# ahead of the workers, or inline); the run fails naming the file, the blob
# and the remedy, the view is not pinned, and no venv file shares the bad
# blob's inode or points to it.  After `wheelfs verify --repair` and adding
# the wheel again, pin completes.
source "$(dirname "$0")/lib.sh"
source "$WFS_LIB_DIR/pin_lib.sh"
[[ -n $PIP_WHL ]] || skip "no /usr/share/python-wheels/pip-*.whl (python3-pip-whl)"

C=$T/cache
# "zz" sorts after pip, so hundreds of jobs run before the bad one.
zz=$(mkwheel --out "$T/w" --name zz --version 1.0 --file zz/__init__.py='Z = 26' \
	--file-size zz/data.bin=100000:9)
wheels=("$PIP_WHL" "$zz")
pin_venv "$C" "$T/ref" "${wheels[@]}"
site=python$PYVER/site-packages
blob=$(pin_member_xxh "$zz" zz/data.bin)
blob=$C/blobs/${blob:0:2}/$blob
[[ -f $blob ]] || fail "no blob for zz/data.bin"
chmod u+w "$blob"
printf 'XXXX' | dd of="$blob" bs=1 seek=500 conv=notrunc status=none

for mode in copy hardlink symlink auto; do
	for j in 1 2; do
		pin_venv "$C" "$T/v-$mode-$j" "${wheels[@]}"
		L=$T/v-$mode-$j/lib
		expect_fail_match "$site/zz/data.bin: .*the content does not hash to its blob's name ${blob##*/}; the cache is damaged: run .wheelfs verify --repair., then add the wheel again" \
			"$WHEELFS" pin -j $j --mode $mode "$L"
		[[ $(pin_view_pinned "$L") == 0 ]] || fail "$mode: the view is pinned"
		[[ ! -e $L/$site/zz/data.bin && ! -L $L/$site/zz/data.bin ]] ||
			fail "$mode -j $j: the damaged file was placed"
		[[ -z $(find "$L" -samefile "$blob") ]] || fail "$mode: a venv file is the bad blob"
		[[ -z $(pin_leftovers "$L") ]] || fail "$mode: temp files left"
	done
done

expect_fail_match "does not match its name" "$WHEELFS" verify --repair "$C" # it reports, then repairs
run_ok "$WHEELFS" add -q "$C" "$zz"
L=$T/v-hardlink-2/lib
run_ok "$WHEELFS" pin --mode hardlink "$L"
pin_check --links "$L" "${wheels[@]}" || fail "the repaired pin is wrong"
echo "ok"
