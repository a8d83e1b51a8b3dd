#!/bin/bash
# test_pin_enospc.sh — the venv on a small tmpfs.
#   1. pin checks free space first: "not enough space on <fs>: need X,
#      have Y", exit 1, nothing written.
#   2. With the check off (test hook WFS_TEST_PIN_NO_SPACE_CHECK=1), pin
#      runs into ENOSPC midway: it stops cleanly (no temp file, view not
#      pinned, every placed file right), exit 1 with a clear message.
#   3. The tmpfs grows (mount -o remount,size=...): a rerun completes.
source "$(dirname "$0")/lib.sh"
source "$WFS_LIB_DIR/pin_lib.sh"
[[ -n $PIP_WHL ]] || skip "no /usr/share/python-wheels/pip-*.whl (python3-pip-whl)"

C=$T/cache
big=$(mkwheel --out "$T/w" --name big --version 1.0 \
	--file big/__init__.py='' \
	--file-size big/a.bin=1500000:1 --file-size big/b.bin=1500000:2 \
	--file-size big/c.bin=1500000:3 --file-size big/d.bin=1500000:4)
wheels=("$big" "$PIP_WHL")
pin_tmpfs "$T/small" size=4m
pin_venv "$C" "$T/small/v" "${wheels[@]}"
L=$T/small/v/lib
before=$(pin_snapshot "$L")

# 1. The up-front check.
expect_fail_match "not enough space on $T/small \(tmpfs\): need [0-9.]+ MiB, have [0-9.]+ [KM]iB" \
	"$WHEELFS" pin --mode copy "$L"
[[ $LAST_RC == 1 ]] || fail "exit status $LAST_RC"
[[ $(pin_snapshot "$L") == "$before" ]] || fail "a refused pin wrote something"
[[ $(pin_view_pinned "$L") == 0 ]] || fail "view marked pinned"
# auto knows it will copy here (the cache is on another filesystem).
expect_fail_match "not enough space on $T/small \(tmpfs\)" "$WHEELFS" pin "$L"

# 2. ENOSPC midway.
WFS_TEST_PIN_NO_SPACE_CHECK=1 expect_fail_match \
	"no space left on $T/small \(tmpfs\) \(No space left on device\); [0-9]+ of [0-9]+ entries placed .*the view is not marked pinned and the venv works as before: free some space and run .wheelfs pin. again" \
	"$WHEELFS" pin --mode copy "$L"
[[ $LAST_RC == 1 ]] || fail "exit status $LAST_RC"
[[ $(wc -l <"$LAST_ERR") == 1 ]] || fail "more than one line of error: $(cat "$LAST_ERR")"
[[ ! -s $LAST_OUT ]] || fail "a summary after a failure: $(cat "$LAST_OUT")"
[[ $(pin_view_pinned "$L") == 0 ]] || fail "view marked pinned after ENOSPC"
[[ -z $(pin_leftovers "$L") ]] || fail "temp files left after ENOSPC"
pin_check --partial "$L" "${wheels[@]}" || fail "a wrong file after ENOSPC"
# named temp files are removed on ENOSPC too
WFS_TEST_PIN_NO_TMPFILE=1 WFS_TEST_PIN_NO_SPACE_CHECK=1 expect_fail_match "no space left" \
	"$WHEELFS" pin --mode copy "$L"
[[ -z $(pin_leftovers "$L") ]] || fail "named temp files left after ENOSPC"

# 3. More space: the rerun completes.
mount -o remount,size=64m "$T/small"
run_ok "$WHEELFS" pin --mode copy "$L"
echo "$(cat "$LAST_OUT")"
grep -Eq "^pinned [0-9]+ files" "$LAST_OUT" || fail "unexpected summary"
[[ $(pin_view_pinned "$L") == 1 ]] || fail "the rerun did not mark the view pinned"
pin_check "$L" "${wheels[@]}" || fail "the completed venv is wrong"
[[ -z $(pin_leftovers "$L") ]] || fail "temp files left"
echo "ok"
