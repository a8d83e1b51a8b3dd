#!/bin/bash
# A command killed inside an atomic write (temp file written, not yet
# renamed over its target; the test hook WFS_TEST_ATOMIC_CRASH=NAME kills
# the process there when the target's name is NAME) leaves a temp file
# .wfs-tmp.NAME.* next to the target.  The next command that writes that
# target, holding the lock every writer of it holds, removes the stale
# ones: install (the view, under the view lock), a compaction of the
# whiteouts journal (under its flock), a symlink pin (pinned-symlinks,
# under the pin lock).  Temp files of other targets are left alone (they
# may belong to a running writer).  The cache marker's (a cache being
# created has no lock yet) are removed by gc once they are an hour old.
source "$(dirname "$0")/lib.sh"
source "$WFS_LIB_DIR/pin_lib.sh"

C=$T/cache
a=$(mkwheel --out "$T/w" --name alpha --version 1.0 --file alpha/__init__.py='A = 1')
b=$(mkwheel --out "$T/w" --name beta --version 1.0 --file beta/__init__.py='B = 2')
pin_venv "$C" "$T/v" "$a"
L=$T/v/lib
S=$T/v/lib/.wheelfs

leftovers() { # DIR NAME: the temp files of NAME in DIR
	find "$1" -maxdepth 1 -name ".wfs-tmp.$2.*" | sort
}

killed() { # the command died by SIGKILL
	local rc=0
	WFS_TEST_ATOMIC_CRASH=$1 "${@:2}" >"$T/k.out" 2>&1 || rc=$?
	[[ $rc == 137 ]] || fail "not killed in the atomic write of $1 (exit $rc): $* $(cat "$T/k.out")"
}

# The view: install killed before its rename; the rerun installs and
# removes the temp; another target's temp (a writer that may be running)
# stays.
killed view "$WHEELFS" install -q --cache "$C" "$T/v" "$b"
[[ -n $(leftovers "$S" view) ]] || fail "no temp file of the view left by the kill"
grep -q "^dist beta" "$S/view" && fail "the killed install wrote the view"
touch "$S/.wfs-tmp.whiteouts.1.abcdef"
run_ok "$WHEELFS" install -q --cache "$C" "$T/v" "$b"
grep -q "^dist beta" "$S/view" || fail "the rerun did not install beta"
[[ -z $(leftovers "$S" view) ]] || fail "the rerun left $(leftovers "$S" view)"
[[ -e $S/.wfs-tmp.whiteouts.1.abcdef ]] || fail "install removed another target's temp file"
rm "$S/.wfs-tmp.whiteouts.1.abcdef"

# The whiteouts journal: many more lines than records makes install
# compact it; killed there, the next compaction removes the temp.
{
	echo "wheelfs-whiteouts 1"
	for i in $(seq 100); do
		echo "w python$PYVER/site-packages/gone$i"
		echo "- python$PYVER/site-packages/gone$i"
	done
} >"$S/whiteouts"
killed whiteouts "$WHEELFS" install -q --cache "$C" "$T/v" "$a"
[[ -n $(leftovers "$S" whiteouts) ]] || fail "no temp file of the whiteouts left by the kill"
run_ok "$WHEELFS" install -q --cache "$C" "$T/v" "$a"
[[ -z $(leftovers "$S" whiteouts) ]] || fail "the compaction left $(leftovers "$S" whiteouts)"
(($(wc -l <"$S/whiteouts") < 10)) || fail "the whiteouts journal was not compacted"

# pinned-symlinks: a symlink pin killed writing it; the rerun.
killed pinned-symlinks "$WHEELFS" pin --mode symlink "$L"
[[ -n $(leftovers "$S" pinned-symlinks) ]] || fail "no temp file of pinned-symlinks left by the kill"
run_ok "$WHEELFS" pin --mode symlink "$L"
[[ -z $(leftovers "$S" pinned-symlinks) ]] || fail "the rerun left $(leftovers "$S" pinned-symlinks)"
grep -q "/blobs/" "$S/pinned-symlinks" || fail "pinned-symlinks lists no blob"

# The cache marker: add killed creating a cache; add again makes it (the
# temp is no obstacle); gc keeps a fresh temp (a cache being created by
# someone else right now) and removes one an hour old.
killed wheelfs-cache "$WHEELFS" add -q "$T/c2" "$a"
[[ -n $(leftovers "$T/c2" wheelfs-cache) ]] || fail "no temp file of the marker left by the kill"
run_ok "$WHEELFS" add -q "$T/c2" "$a"
run_ok "$WHEELFS" gc "$T/c2"
[[ -n $(leftovers "$T/c2" wheelfs-cache) ]] || fail "gc removed a fresh temp file of the marker"
touch -d '2 hours ago' "$T/c2"/.wfs-tmp.wheelfs-cache.*
run_ok "$WHEELFS" gc "$T/c2"
[[ -z $(leftovers "$T/c2" wheelfs-cache) ]] || fail "gc left $(leftovers "$T/c2" wheelfs-cache)"
grep -q "1 temp files" "$LAST_OUT" || fail "gc summary: $(cat "$LAST_OUT")"
echo "ok"
