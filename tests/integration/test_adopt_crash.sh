#!/bin/bash
# test_adopt_crash.sh — adopt killed after each of its steps (the test hook
# WFS_TEST_CRASH_AFTER=store|view|free, see fs/adopt.c) loses nothing, and a
# rerun completes: the view plus the upper layer still show exactly what pip
# installed, and the duplicates are freed.  A refused adopt of a mounted venv
# is tested with the mount.
source "$(dirname "$0")/lib.sh"
source "$(dirname "$0")/install_lib.sh"

site=python$PYXY/site-packages
mapfile -t wheels < <(demo_wheels "$T/w")
mkvenv "$T/base"
pip_install "$T/base" "${wheels[@]}" "$PIP_WHL"
snap=$(listing "$T/base/lib" --mtime)

for step in store view free; do
	V=$T/venv-$step
	cp -a "$T/base" "$V"
	[[ $(listing "$V/lib" --mtime) == "$snap" ]] || fail "cp -a changed the venv"
	_wfs_run env WFS_TEST_CRASH_AFTER=$step "$WHEELFS" adopt --cache "$T/cache" "$V"
	[[ $LAST_RC == 99 ]] || fail "$step: the hook did not fire (exit $LAST_RC)"
	if [[ $step == store ]]; then
		[[ ! -e $V/lib/.wheelfs/view ]] || fail "store: a view was written"
		[[ $(listing "$V/lib" --mtime) == "$snap" ]] || fail "store: the venv changed"
	else
		materialize "$V" "$T/m"
		[[ $(listing "$T/m" --mtime) == "$snap" ]] ||
			fail "$step: the interrupted venv differs:
$(diff <(echo "$snap") <(listing "$T/m" --mtime) | head -n 20)"
	fi
	run_ok "$WHEELFS" adopt --cache "$T/cache" "$V"
	materialize "$V" "$T/m"
	[[ $(listing "$T/m" --mtime) == "$snap" ]] ||
		fail "$step: the completed venv differs:
$(diff <(echo "$snap") <(listing "$T/m" --mtime) | head -n 20)"
	left=$(find "$V/lib/$site" -type f ! -path '*.dist-info/*' | head -n 3)
	[[ -z $left ]] || fail "$step: duplicates not freed after the rerun: $left"
done
check_blobs "$T/cache"
echo PASS
