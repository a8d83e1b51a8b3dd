#!/bin/bash
# A missing or mis-sized blob: reading that one file fails with EIO, the
# daemon logs one line naming the blob, the view path and the remedy, and
# keeps serving (other files read, stat works, a later unmount is clean).
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
. "$WFS_LIB_DIR/mount_lib.sh"

C=$T/cache
V=$T/venv
W=$T/wheels
mkdir -p "$W"
whl=$(mkwheel --out "$W" --name eio --version 1.0 \
	--file eio/__init__.py='OK = 1' \
	--file eio/missing.py='MISSING = 1' \
	--file eio/short.py='SHORT = 12345' \
	--file eio/fine.py='FINE = 1')
mkvenv "$V"
vinstall "$C" "$V" "$whl"
S=$(site_of "$V")
unpack_wheel "$whl" "$T/u"
missing=$(blob_of "$T/u/eio/missing.py" "$C")
short=$(blob_of "$T/u/eio/short.py" "$C")
rm -f "$missing"
chmod u+w "$short"
printf 'SHORT' >"$short"
chmod 0444 "$short"

mnt "$V"
expect_fail_match "input/output error" cat "$S/eio/missing.py"
expect_fail_match "input/output error" cat "$S/eio/short.py"
# the daemon lives on
run_ok stat "$S/eio/missing.py"
run_ok cat "$S/eio/fine.py"
run_ok vpy "$V" -c 'import eio; assert eio.OK == 1'
expect_fail_match "OSError|Input/output" vpy "$V" -c 'import eio.missing'
# again: still EIO, logged once
expect_fail_match "input/output error" cat "$S/eio/missing.py"
cat "$MOUNT_LOG"
mh=$(basename "$missing")
sh=$(basename "$short")
[[ $(grep -c "$mh" "$MOUNT_LOG") == 1 ]] || fail "expected one log line for blob $mh"
grep "$mh" "$MOUNT_LOG" | grep -q "python$PYXY/site-packages/eio/missing.py" ||
	fail "the log line does not name the file"
grep "$mh" "$MOUNT_LOG" | grep -q "missing from $C" || fail "the log line does not say missing"
grep "$mh" "$MOUNT_LOG" | grep -q "wheelfs add" || fail "the log line gives no remedy"
grep "$sh" "$MOUNT_LOG" | grep -q "corrupt" || fail "no log line for the short blob"
# writing to a file whose blob is missing: the copy-up fails with EIO
expect_fail_match "input/output error" bash -c "echo x >>'$S/eio/missing.py'"
# the view path is whole again once the blob is back
run_ok "$WHEELFS" add -q "$C" "$whl"
[[ -f $missing ]] || fail "wheelfs add did not restore the blob"
run_ok stat "$S"
umnt "$V"
mnt "$V"
run_ok cat "$S/eio/missing.py"
umnt "$V"
echo ok
