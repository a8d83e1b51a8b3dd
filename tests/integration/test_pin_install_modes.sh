#!/bin/bash
# test_pin_install_modes.sh — `wheelfs install` into a pinned view places
# the new distributions' files the way `wheelfs pin` does, with pin's code:
#   - in the mode the view was pinned with (pin records it in
#     .wheelfs/pin-mode): --mode hardlink gives hardlinks to the blobs
#     (executables copied), --mode symlink symlinks into the cache, listed
#     in pinned-symlinks next to the old ones;
#   - else (pinned by an older wheelfs) auto, which never hardlinks for
#     root: real copies;
#   - new directories get the tree's mode and mtime, as pin gives them;
#   - a damaged blob is caught before the file gets its name: the install
#     fails with pin's message, nothing of it is placed, the view is
#     unchanged;
#   - killed in the middle (pin's test hook), the install leaves no final
#     name with a partial file, and a rerun completes it.
source "$(dirname "$0")/lib.sh"
source "$WFS_LIB_DIR/pin_lib.sh"
pin_have_install || skip "no \`wheelfs install\` in this build"
[[ $(id -u) == 0 ]] || skip "needs root (auto never hardlinks for root)"

site=python$PYVER/site-packages
C=$T/cache
aa=$(mkwheel --out "$T/w" --name aa --version 1.0 --file aa/__init__.py='A = 1')
bb=$(mkwheel --out "$T/w" --name bb --version 1.0 --file bb/__init__.py='B = 2' \
	--file bb/sub/deep/m.py='M = 3' --file bb/run.sh='#!/bin/sh' --exec bb/run.sh \
	--file-size bb/data.bin=200000:5)

# hardlink: recorded, and used by the install
pin_venv "$C" "$T/h" "$aa"
run_ok "$WHEELFS" pin --mode hardlink "$T/h/lib"
[[ $(cat "$T/h/lib/.wheelfs/pin-mode") == hardlink ]] || fail "pin did not record its mode"
run_ok "$WHEELFS" install -q --cache "$C" "$T/h" "$bb"
[[ $(pin_view_pinned "$T/h/lib") == 1 ]] || fail "install unpinned the view"
S=$T/h/lib/$site
[[ -n $(find "$S/bb/data.bin" -samefile "$(blob_of "$S/bb/data.bin" "$C")") ]] ||
	fail "bb/data.bin is not a hardlink to its blob in a view pinned with --mode hardlink"
[[ $(stat -c %h "$S/bb/run.sh") == 1 && $(stat -c %a "$S/bb/run.sh") == 755 ]] ||
	fail "the executable bb/run.sh was hardlinked or lost its mode"
pin_check --links "$T/h/lib" "$aa" "$bb" || fail "the hardlinked install is wrong"
run_ok "$T/h/bin/python" -c 'import aa, bb, bb.sub.deep.m; assert bb.B == 2'

# no recorded mode (pinned by an older wheelfs): auto, and root never
# hardlinks; directories as a fresh pin makes them
pin_venv "$C" "$T/a" "$aa"
run_ok "$WHEELFS" pin --mode copy "$T/a/lib"
rm "$T/a/lib/.wheelfs/pin-mode"
run_ok "$WHEELFS" install -q --cache "$C" "$T/a" "$bb"
S=$T/a/lib/$site
[[ $(stat -c %h "$S/bb/data.bin") == 1 ]] || fail "auto hardlinked for root"
pin_check "$T/a/lib" "$aa" "$bb" || fail "the auto install is wrong"
pin_venv "$C" "$T/ref" "$aa" "$bb"
run_ok "$WHEELFS" pin --mode copy "$T/ref/lib"
R=$T/ref/lib/$site
for d in bb bb/sub bb/sub/deep; do # (the dist-info is install's: its mtime too)
	[[ $(stat -c '%a %Y' "$S/$d") == $(stat -c '%a %Y' "$R/$d") ]] ||
		fail "$d: mode and mtime $(stat -c '%a %Y' "$S/$d"), a pin gives $(stat -c '%a %Y' "$R/$d")"
done

# symlink: new symlinks into the cache, listed with the old ones
pin_venv "$C" "$T/s" "$aa"
run_ok "$WHEELFS" pin --mode symlink "$T/s/lib"
old=$(grep -c '^/' "$T/s/lib/.wheelfs/pinned-symlinks")
run_ok "$WHEELFS" install -q --cache "$C" "$T/s" "$bb"
S=$T/s/lib/$site
[[ -L $S/bb/data.bin && -L $S/aa/__init__.py ]] || fail "symlink mode: bb/data.bin is not a symlink"
grep -qx "$(readlink "$S/bb/data.bin")" "$T/s/lib/.wheelfs/pinned-symlinks" ||
	fail "pinned-symlinks does not list bb/data.bin's blob"
grep -qx "$(readlink "$S/aa/__init__.py")" "$T/s/lib/.wheelfs/pinned-symlinks" ||
	fail "pinned-symlinks lost aa's blob"
(($(grep -c '^/' "$T/s/lib/.wheelfs/pinned-symlinks") > old)) || fail "pinned-symlinks did not grow"
run_ok "$T/s/bin/python" -c 'import aa, bb, bb.sub.deep.m'

# a damaged blob is never placed: the install fails with pin's message
cc=$(mkwheel --out "$T/w" --name cc --version 1.0 --file cc/__init__.py='C = 3' \
	--file-size cc/data.bin=100000:9)
pin_venv "$C" "$T/d" "$aa"
run_ok "$WHEELFS" pin --mode copy "$T/d/lib"
run_ok "$WHEELFS" add -q "$C" "$cc"
blob=$(pin_member_xxh "$cc" cc/data.bin)
blob=$C/blobs/${blob:0:2}/$blob
chmod u+w "$blob"
printf 'XXXX' | dd of="$blob" bs=1 seek=500 conv=notrunc status=none
cp "$T/d/lib/.wheelfs/view" "$T/view.before"
expect_fail_match "$site/cc/data.bin: .*does not hash to its blob's name ${blob##*/}; the cache is damaged" \
	"$WHEELFS" install --cache "$C" "$T/d" "$cc"
[[ ! -e $T/d/lib/$site/cc/data.bin ]] || fail "the damaged file was placed"
cmp -s "$T/view.before" "$T/d/lib/.wheelfs/view" || fail "the failed install changed the view"
[[ -z $(pin_leftovers "$T/d/lib") ]] || fail "temp files left: $(pin_leftovers "$T/d/lib")"
"$WHEELFS" verify --repair "$C" >/dev/null 2>&1 || true # it reports, then repairs
run_ok "$WHEELFS" add -q "$C" "$cc"
run_ok "$WHEELFS" install -q --cache "$C" "$T/d" "$cc"
pin_check "$T/d/lib" "$aa" "$cc" || fail "the install after the repair is wrong"

# killed while placing: no partial file under a final name; a rerun completes
pin_venv "$C" "$T/k" "$aa"
run_ok "$WHEELFS" pin --mode copy "$T/k/lib"
WFS_TEST_PIN_NO_TMPFILE=1 WFS_TEST_PIN_CRASH_AT=3 "$WHEELFS" install -q --cache "$C" "$T/k" "$bb" \
	>/dev/null 2>&1 && fail "the install was not killed"
pin_check --partial "$T/k/lib" "$bb" || fail "the killed install left a bad file"
grep -q '^dist bb ' "$T/k/lib/.wheelfs/view" && fail "the killed install wrote the view"
run_ok "$WHEELFS" install -q --cache "$C" "$T/k" "$bb"
pin_check "$T/k/lib" "$aa" "$bb" || fail "the rerun did not complete the install"
[[ ! -e $T/k/lib/.wheelfs/pinning ]] || fail "the journal stayed"
run_ok "$WHEELFS" pin "$T/k/lib"
grep -q '^nothing to pin' "$LAST_OUT" || fail "pin had work left: $(cat "$LAST_OUT")"
echo ok
