#!/bin/bash
# test_pin_hardlink_mount.sh — after `pin --mode hardlink`, an upper file
# shares its inode with a cache blob.  Through the mount, every way of
# changing such a file (write, truncate, chmod, touch) must go to a
# private copy first — the daemon calls wfs_pin_is_shared() /
# wfs_pin_break_link() (fs/pin.h), the equivalent of copy-up — so the
# blob never changes and the edit survives unmounting.  Nor can a file
# held open across its deletion through the mount reach the blob.
source "$(dirname "$0")/lib.sh"
source "$WFS_LIB_DIR/pin_lib.sh"
pin_have_mount || skip "no \`wheelfs mount\` in this build"
[[ -e /dev/fuse ]] || skip "no /dev/fuse"

C=$T/cache
demo=$(mkwheel --out "$T/w" --name demo --version 1.0 \
	--file demo/__init__.py='X = 1' --file demo/a.py='A = 1' \
	--file demo/b.py='B = 1' --file demo/c.py='C = 1' --file demo/d.py='D = 1' \
	--file demo/e.py='E = 1' --file demo/same1.py='S = 1' --file demo/same2.py='S = 1')
pin_venv "$C" "$T/v" "$demo"
L=$T/v/lib
S=python$PYVER/site-packages
pin_mount "$C" "$L"
run_ok "$WHEELFS" pin --mode hardlink "$L"
grep -Eq '^pinned 10 files \(0 reflinked, 10 hardlinked' "$LAST_OUT" || fail "unexpected summary: $(cat "$LAST_OUT")"
blobs=()
for f in __init__ a b c d; do blobs+=("$(blob_of "$L/$S/demo/$f.py" "$C")"); done

# Two files of the same content share one blob inode underneath; through
# the mount they are two files, before and after one is written.
run_ok "$PY" - "$L/$S/demo/same1.py" "$L/$S/demo/same2.py" <<'PYEOF'
import os, sys
a, b = sys.argv[1:3]
assert not os.path.samefile(a, b), "two names, one st_ino"
with open(a, "a") as f:
    f.write("# edited\n")
assert not os.path.samefile(a, b), "two files, one st_ino after a write"
assert open(b).read() == "S = 1", open(b).read()
PYEOF

# removexattr through the mount goes to a private copy (which does not
# carry the blob's attributes): the blob keeps its attribute (set on it
# directly here, as a security label would be).
xb=$(blob_of "$L/$S/demo/same2.py" "$C")
if "$PY" -c 'import os,sys; os.setxattr(sys.argv[1], "user.label", b"keep")' "$xb"; then
	"$PY" -c '
import errno, os, sys
try:
    os.removexattr(sys.argv[1], "user.label")
except OSError as e:
    assert e.errno == errno.ENODATA, e' "$L/$S/demo/same2.py" || fail "removexattr through the mount failed"
	"$PY" -c 'import os,sys; assert os.getxattr(sys.argv[1], "user.label") == b"keep"' "$xb" ||
		fail "removexattr through the mount stripped the blob's attribute"
	"$PY" -c 'import os,sys; os.removexattr(sys.argv[1], "user.label")' "$xb"
fi

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
# A file held open for writing (with no-open, nothing reaches the daemon
# yet) and then deleted through the mount by someone else: the daemon
# keeps the deleted file's inode, which is the blob's; a later write or
# chmod through the open descriptor goes to a private copy, never to it.
run_ok "$PY" - "$L/$S/demo/e.py" "$(blob_of "$L/$S/demo/e.py" "$C")" <<'PYEOF'
import errno, os, sys
path, blob = sys.argv[1], sys.argv[2]
before = open(blob, "rb").read()
fd = os.open(path, os.O_RDWR)
os.system("rm -f '%s'" % path)  # another process
for what, op in (("write", lambda: os.pwrite(fd, b"Z", 0)),
                 ("chmod", lambda: os.fchmod(fd, 0o600))):
    try:
        op()
    except OSError as e:
        print(what, "refused:", errno.errorcode[e.errno])
    else:
        print(what, "done")
os.close(fd)
assert open(blob, "rb").read() == before, "the blob changed"
assert oct(os.stat(blob).st_mode & 0o777) == "0o444", "the blob's mode changed"
PYEOF
cat "$LAST_OUT"
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
