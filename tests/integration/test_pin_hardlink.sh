#!/bin/bash
# test_pin_hardlink.sh — cache and venv on one filesystem.
#   --mode hardlink links every non-executable file to its blob (same
#   inode, the blob's mode 0444), copies executables, and says in its
#   summary that in-place edits change the cache.  An edit that replaces
#   the file (sed -i, pip, most editors) leaves the blob alone; an in-place
#   write by an ordinary user is refused (0444) (through the mount, a write
#   goes to a private copy: test_pin_hardlink_mount.sh).  An in-place
#   write by root does change the blob: that is the documented caveat, and
#   `wheelfs verify` finds it.
#   auto never hardlinks for root (blobs unprotected); for another user
#   whose cache belongs to root it tries, and says what the kernel said.
source "$(dirname "$0")/lib.sh"
source "$WFS_LIB_DIR/pin_lib.sh"

C=$T/cache
demo=$(mkwheel --out "$T/w" --name demo --version 1.0 \
	--file demo/__init__.py='X = 1' \
	--file demo/core.py='Y = 2' \
	--file demo/tool.sh='#!/bin/sh' --exec demo/tool.sh)
site=python$PYVER/site-packages
pin_venv "$C" "$T/v" "$demo"
L=$T/v/lib
core=$L/$site/demo/core.py
blob=$(blob_of "$core" "$C" 2>/dev/null || true)

run_ok "$WHEELFS" pin --mode hardlink "$L"
summary=$(cat "$LAST_OUT")
echo "$summary"
grep -Eq '^pinned 5 files \(0 reflinked, 4 hardlinked, 1 copied' <<<"$summary" ||
	fail "unexpected summary: $summary"
grep -q "1 executable files copied" <<<"$summary" || fail "exec copy not reported"
grep -q "hardlinked files are read-only (0444) and share their inode with the cache" <<<"$summary" ||
	fail "no hardlink caveat in the summary"
grep -q "editors that write in place (as root, or after chmod) will change the cache" <<<"$summary" ||
	fail "no in-place caveat in the summary"
pin_check --links "$L" "$demo" || fail "pinned venv is wrong"
blob=$(blob_of "$core" "$C")
[[ $(stat -c %i "$core") == $(stat -c %i "$blob") ]] || fail "core.py is not the blob's inode"
[[ $(stat -c %a "$core") == 444 ]] || fail "a hardlinked file is not 0444"
[[ $(stat -c %h "$L/$site/demo/tool.sh") == 1 ]] || fail "the executable was hardlinked"

# Offline: an edit that replaces the file leaves the blob alone.
init=$L/$site/demo/__init__.py
iblob=$(blob_of "$init" "$C")
[[ $(stat -c %h "$init") -gt 1 ]] || fail "__init__.py is not hardlinked"
sed -i 's/X = 1/X = 100/' "$init"
[[ $(xxh "$iblob") == "${iblob##*/}" ]] || fail "sed -i changed the blob"
grep -q 'X = 100' "$init" || fail "sed -i did not edit"
[[ $(stat -c %h "$init") == 1 ]] || fail "sed -i kept the link"

# An ordinary user cannot write in place: the file is 0444.
meta=$L/$site/demo-1.0.dist-info/METADATA
mblob=$(blob_of "$meta" "$C")
chmod 755 "$T"
expect_fail_match "permission denied" setpriv --reuid=65534 --regid=65534 --clear-groups \
	sh -c "echo evil >> '$meta'"
[[ $(xxh "$mblob") == "${mblob##*/}" ]] || fail "a refused write changed the blob"

# Root writing in place changes the blob: the documented caveat.
echo "# root edits in place" >>"$meta"
[[ $(xxh "$mblob") != "${mblob##*/}" ]] || fail "the documented caveat did not happen?"
expect_fail_match "${mblob##*/}" "$WHEELFS" verify "$C"
chmod u+w "$mblob" && rm -f "$mblob"   # let the next add restore it
run_ok "$WHEELFS" add -q "$C" "$demo"

# auto, as root: no hardlinks, and the summary says why.
pin_venv "$C" "$T/v2" "$demo"
run_ok "$WHEELFS" pin "$T/v2/lib"
grep -Eq '^pinned 5 files \(0 reflinked, 0 hardlinked, 5 copied' "$LAST_OUT" ||
	fail "auto hardlinked as root: $(cat "$LAST_OUT")"
grep -q "hardlink not used: you can write to any file (root, CAP_FOWNER)" "$LAST_OUT" ||
	fail "no reason for not hardlinking: $(cat "$LAST_OUT")"

# auto, as another user, with root's cache: the kernel protects the blobs,
# so auto tries a hardlink; fs.protected_hardlinks=1 then refuses it.
pin_venv "$C" "$T/v3" "$demo"
chown -R 65534:65534 "$T/v3"
run_ok setpriv --reuid=65534 --regid=65534 --clear-groups "$WHEELFS" pin "$T/v3/lib"
echo "as nobody: $(cat "$LAST_OUT")"
if [[ $(cat /proc/sys/fs/protected_hardlinks) == 1 ]]; then
	grep -Eq '^pinned 5 files \(0 reflinked, 0 hardlinked, 5 copied' "$LAST_OUT" ||
		fail "unexpected summary as nobody: $(cat "$LAST_OUT")"
	grep -q "hardlink skipped: not permitted (EPERM; with fs.protected_hardlinks=1" "$LAST_OUT" ||
		fail "no EPERM reason as nobody: $(cat "$LAST_OUT")"
else
	grep -Eq '^pinned 5 files \(0 reflinked, 4 hardlinked, 1 copied' "$LAST_OUT" ||
		fail "unexpected summary as nobody: $(cat "$LAST_OUT")"
fi
pin_check --links "$T/v3/lib" "$demo" || fail "pinned venv is wrong"
echo "ok"
