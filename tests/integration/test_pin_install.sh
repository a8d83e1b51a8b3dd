#!/bin/bash
# test_pin_install.sh — a pinned view and later installs.  pin leaves the
# dist lines in the view record; `wheelfs install` of another wheel into the
# pinned view keeps it pinned and writes the new distribution's files as
# real files too (with the tree's mode and mtime), so the next pin has
# nothing to do.  `wheelfs uninstall` of a pinned distribution removes its
# upper files; the view stays pinned.
source "$(dirname "$0")/lib.sh"
source "$WFS_LIB_DIR/pin_lib.sh"
pin_have_install || skip "no \`wheelfs install\` in this build"

C=$T/cache
aa=$(mkwheel --out "$T/w" --name aa --version 1.0 --file aa/__init__.py='A = 1' --file aa/x.py='')
bb=$(mkwheel --out "$T/w" --name bb --version 1.0 --file bb/__init__.py='B = 2')
pin_venv "$C" "$T/v" "$aa"
L=$T/v/lib
run_ok "$WHEELFS" pin "$L"
grep -Eq '^pinned 4 files' "$LAST_OUT" || fail "unexpected summary: $(cat "$LAST_OUT")"
[[ $(pin_view_pinned "$L") == 1 ]] || fail "not pinned"

run_ok "$WHEELFS" install -q --cache "$C" "$T/v" "$bb"
[[ $(pin_view_pinned "$L") == 1 ]] || fail "install into a pinned view unpinned it"
grep -q '^dist aa 1.0 ' "$L/.wheelfs/view" || fail "aa's dist line is gone"
pin_check "$L" "$aa" "$bb" || fail "bb's files are not real in the pinned venv"
run_ok "$T/v/bin/python" -c 'import aa, bb; assert aa.A == 1 and bb.B == 2'
if pin_have_mount; then
	pin_mount "$C" "$L"
	run_ok "$T/v/bin/python" -c 'import aa, bb; assert aa.A == 1 and bb.B == 2'
	run_ok "$WHEELFS" umount "$L"
fi
run_ok "$WHEELFS" pin "$L"
grep -q '^nothing to pin' "$LAST_OUT" || fail "the second pin had work left: $(cat "$LAST_OUT")"

run_ok "$WHEELFS" uninstall -q "$T/v" aa
[[ ! -e $L/python$PYVER/site-packages/aa ]] || fail "uninstall left aa's pinned files"
[[ $(pin_view_pinned "$L") == 1 ]] || fail "uninstall unpinned the view"
run_ok "$WHEELFS" pin "$L"
grep -q '^nothing to pin' "$LAST_OUT" || fail "unexpected: $(cat "$LAST_OUT")"
run_ok "$WHEELFS" pin -q "$L"
[[ ! -s $LAST_OUT && ! -s $LAST_ERR ]] || fail "pin -q printed: $(cat "$LAST_OUT" "$LAST_ERR")"
echo "ok"
