#!/bin/bash
# A directory stream that goes on while the directory changes: every entry
# neither added nor removed meanwhile is returned exactly once (POSIX
# readdir).  Listings of a large directory take several READDIR requests,
# and the snapshot behind them is rebuilt after each change, so offsets
# must not shift with it.  Checked on a lower directory of 3,000 files plus
# upper files, deleting every other entry as it is read, then the rest,
# then adding files while reading.  The same runs on a native directory
# first, to show the check itself holds there.
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
. "$WFS_LIB_DIR/mount_lib.sh"

C=$T/cache
V=$T/venv
W=$T/wheels
mkdir -p "$W"
args=()
for i in $(seq 3000); do args+=(--file-size "big/files/entry_with_a_longish_name_$i.py=8:$i"); done
whl=$(mkwheel --out "$W" --name big --version 1.0 --file big/__init__.py= "${args[@]}")
mkvenv "$V"
vinstall "$C" "$V" "$whl"
S=$(site_of "$V")

# DIR MODE LIST: read DIR with os.scandir; MODE "del2" deletes every other
# entry as it is read, "del1" every entry, "add" creates a file for every
# tenth entry read.  LIST holds the names DIR had before.  Fails on an entry
# returned twice, or on one that was there all along but never returned.
# (The names before come from LIST, not from a listing of DIR: the
# kernel's cached listing would serve the stream's first reads.)
stream() {
	"$PY" - "$@" <<'PY'
import os, sys
d, mode, listed = sys.argv[1:4]
with open(listed) as f:
    before = set(f.read().split())
seen, dups, n, made = set(), [], 0, set()
with os.scandir(d) as it:
    for e in it:
        if e.name in seen:
            dups.append(e.name)
        seen.add(e.name)
        if mode == "del1" or (mode == "del2" and n % 2 == 0):
            os.unlink(e.path)
        elif mode == "add" and n % 10 == 0:
            name = "added_%d.py" % n
            open(os.path.join(d, name), "w").close()
            made.add(name)
        n += 1
missed = sorted(before - seen - made)
after = set(os.listdir(d))
print("%s: %d before, %d returned, %d now" % (mode, len(before), len(seen), len(after)))
if dups:
    sys.exit("returned twice: %s" % dups[:5])
if missed:
    sys.exit("%d entries there all along never returned, e.g. %s" % (len(missed), missed[:3]))
if seen - before - made:
    sys.exit("returned but never there: %s" % sorted(seen - before - made)[:3])
PY
}

mnt "$V"
for i in $(seq 200); do : >"$S/big/files/upper_$i.py"; done
cp -a "$S/big/files" "$T/native"
for mode in del2 del1 add; do
	if [[ $mode == add ]]; then # both are empty now
		for i in $(seq 3000); do
			: >"$T/native/new_file_number_$i.py"
			: >"$S/big/files/new_file_number_$i.py"
		done
	fi
	# What each holds before (after del2 they differ: each deleted
	# every other entry in its own order).
	ls -A "$T/native" | sort >"$T/names.native"
	ls -A "$S/big/files" | sort >"$T/names"
	[[ $mode == del1 ]] || cmp -s "$T/names" "$T/names.native" ||
		fail "the mount and the native copy differ before $mode"
	run_ok stream "$T/native" "$mode" "$T/names.native"
	umnt "$V"
	mnt "$V" # fresh: nothing cached by the kernel yet
	run_ok stream "$S/big/files" "$mode" "$T/names"
	cat "$LAST_OUT"
done
umnt "$V"
echo ok
