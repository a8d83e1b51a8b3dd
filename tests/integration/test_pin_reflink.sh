#!/bin/bash
# test_pin_reflink.sh — cache and venv on an XFS (reflink=1) loop image.
# auto reflinks every file (FICLONE from the blob), reads each copy back to
# check its digest, sets the tree's mode and mtime, and writes no data: the
# extents are shared (filefrag), the filesystem barely grows, and an
# in-place edit of a pinned file (copy-on-write) leaves the blob alone.
# An install into the pinned venv reflinks its new files the same way.
# --mode copy writes real, unshared copies.  Needs mkfs.xfs (xfsprogs) and
# loop devices; skips (77) with the reason when either is missing.
source "$(dirname "$0")/lib.sh"
source "$WFS_LIB_DIR/pin_lib.sh"
command -v mkfs.xfs >/dev/null || skip "mkfs.xfs is missing (apt-get install xfsprogs)"
command -v filefrag >/dev/null || skip "filefrag is missing (e2fsprogs)"
[[ -e /dev/loop-control ]] || skip "no loop devices (/dev/loop-control)"

truncate -s 512M "$T/xfs.img"
mkfs.xfs -q -m reflink=1 "$T/xfs.img" || skip "mkfs.xfs -m reflink=1 failed"
mkdir "$T/x"
mount -o loop "$T/xfs.img" "$T/x" || skip "cannot mount a loop device here"
wfs_on_exit "umount '$T/x' 2>/dev/null || umount -l '$T/x'"

C=$T/x/cache
demo=$(mkwheel --out "$T/w" --name demo --version 1.0 \
	--file demo/__init__.py='X = 1' \
	--file demo/tool.sh='#!/bin/sh' --exec demo/tool.sh \
	--symlink demo/alias.py=__init__.py \
	--file-size demo/big.bin=4000000:7 --file-size demo/mid.bin=300000:8)
pin_venv "$C" "$T/x/v" "$demo"
L=$T/x/v/lib
S=$L/python$PYVER/site-packages
sync
used0=$(df --output=used -B1 "$T/x" | tail -n 1)
run_ok "$WHEELFS" pin --strict "$L"
echo "$(cat "$LAST_OUT")"
grep -Eq '^pinned 6 files \(6 reflinked, 0 hardlinked, 0 copied, 0 B written\), 1 symlinks' "$LAST_OUT" ||
	fail "unexpected summary: $(cat "$LAST_OUT")"
grep -q "skipped" "$LAST_OUT" && fail "the summary reports a skipped method: $(cat "$LAST_OUT")"
sync
used1=$(df --output=used -B1 "$T/x" | tail -n 1)
((used1 - used0 < 2000000)) || fail "a reflink pin used $((used1 - used0)) bytes for 4.3 MB of data"
pin_check "$L" "$demo" || fail "the pinned venv is wrong"
[[ $(stat -c %a "$S/demo/tool.sh") == 755 ]] || fail "tool.sh lost its exec bit"
filefrag -v "$S/demo/big.bin" | grep -q shared || fail "big.bin's extents are not shared with its blob"
[[ $(stat -c %h "$S/demo/big.bin") == 1 ]] || fail "big.bin is a hardlink"

# Copy-on-write: an in-place edit does not reach the blob.
blob=$(blob_of "$S/demo/big.bin" "$C")
printf 'edited' | dd of="$S/demo/big.bin" bs=1 seek=1000 conv=notrunc status=none
[[ $(xxh "$blob") == "${blob##*/}" ]] || fail "an in-place edit of a reflinked file changed the blob"

# An install into the pinned venv reflinks too (pin's code, auto): the
# new file shares its blob's extents and is no hardlink.
more=$(mkwheel --out "$T/w" --name more --version 1.0 --file-size more/big.bin=2000000:3)
run_ok "$WHEELFS" install -q --cache "$C" "$T/x/v" "$more"
[[ $(pin_view_pinned "$L") == 1 ]] || fail "the install unpinned the view"
filefrag -v "$S/more/big.bin" | grep -q shared || fail "the installed more/big.bin does not share its blob's extents"
[[ $(stat -c %h "$S/more/big.bin") == 1 ]] || fail "the installed more/big.bin is a hardlink"
pin_check "$L" "$more" || fail "the install into the pinned venv is wrong"

# --mode copy writes unshared copies.
pin_venv "$C" "$T/x/v2" "$demo"
run_ok "$WHEELFS" pin --mode copy "$T/x/v2/lib"
grep -Eq '^pinned 6 files \(0 reflinked, 0 hardlinked, 6 copied' "$LAST_OUT" ||
	fail "unexpected summary: $(cat "$LAST_OUT")"
filefrag -v "$T/x/v2/lib/python$PYVER/site-packages/demo/big.bin" | grep -q shared &&
	fail "a --mode copy file shares extents"
pin_check "$T/x/v2/lib" "$demo" || fail "the copied venv is wrong"
echo "ok"
