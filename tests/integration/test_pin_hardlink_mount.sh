#!/bin/bash
# test_pin_hardlink_mount.sh — after `pin --mode hardlink`, an upper file
# shares its inode with a cache blob.  Through the mount, every way of
# changing such a file (write, truncate, chmod, touch) must go to a
# private copy first — the daemon calls wfs_pin_is_shared() /
# wfs_pin_break_link() (fs/pin.h), the equivalent of copy-up — so the
# blob never changes and the edit survives unmounting.
source "$(dirname "$0")/lib.sh"
source "$WFS_LIB_DIR/pin_lib.sh"
pin_have_mount || skip "no \`wheelfs mount\` in this build"
[[ -e /dev/fuse ]] || skip "no /dev/fuse"

C=$T/cache
demo=$(mkwheel --out "$T/w" --name demo --version 1.0 \
	--file demo/__init__.py='X = 1' --file demo/a.py='A = 1' \
	--file demo/b.py='B = 1' --file demo/c.py='C = 1' --file demo/d.py='D = 1')
pin_venv "$C" "$T/v" "$demo"
L=$T/v/lib
S=python$PYVER/site-packages
pin_mount "$C" "$L"
run_ok "$WHEELFS" pin --mode hardlink "$L"
grep -Eq '^pinned 7 files \(0 reflinked, 7 hardlinked' "$LAST_OUT" || fail "unexpected summary: $(cat "$LAST_OUT")"
blobs=()
for f in __init__ a b c d; do blobs+=("$(blob_of "$L/$S/demo/$f.py" "$C")"); done

# write in place, truncate, chmod, touch, append — all through the mount
run_ok "$PY" -c "
import sys
with open(sys.argv[1], 'r+') as f:
    f.write('Y')
" "$L/$S/demo/__init__.py"
run_ok truncate -s 0 "$L/$S/demo/a.py"
run_ok chmod 0600 "$L/$S/demo/b.py"
run_ok touch -d 2001-01-01 "$L/$S/demo/c.py"
run_ok sh -c "echo '# more' >> '$L/$S/demo/d.py'"
for b in "${blobs[@]}"; do
	[[ $(xxh "$b") == "${b##*/}" ]] ||
		fail "a change through the mount reached the blob $b: the daemon must call wfs_pin_break_link() (fs/pin.h) before writing to a shared upper file"
	[[ $(stat -c %a "$b") == 444 ]] || fail "chmod through the mount changed the blob's mode"
done
[[ $(stat -c %Y "${blobs[3]}") != $(date -d 2001-01-01 +%s) ]] || fail "touch changed the blob's mtime"
run_ok "$WHEELFS" umount "$L"
[[ $(head -c 1 "$L/$S/demo/__init__.py") == Y ]] || fail "the in-place write is lost"
[[ ! -s $L/$S/demo/a.py ]] || fail "the truncate is lost"
[[ $(stat -c %a "$L/$S/demo/b.py") == 600 ]] || fail "the chmod is lost"
grep -q '# more' "$L/$S/demo/d.py" || fail "the append is lost"
for f in __init__ a b c d; do
	[[ $(stat -c %h "$L/$S/demo/$f.py") == 1 ]] || fail "$f.py is still linked to its blob"
done
run_ok "$WHEELFS" verify "$C"
echo "ok"
