#!/bin/bash
# test_pin_crossdev.sh — the seed scenario.  The cache is on a tmpfs, the
# venv on the disk: `wheelfs pin` (auto) copies every file, and its summary
# says why it could not reflink (different filesystems, EXDEV) and why it
# did not hardlink.  Then the cache is removed: the venv (pip installed from
# Debian's pip wheel through the view) still imports and runs `pip list`.
source "$(dirname "$0")/lib.sh"
source "$WFS_LIB_DIR/pin_lib.sh"
[[ -n $PIP_WHL ]] || skip "no /usr/share/python-wheels/pip-*.whl (python3-pip-whl)"

pin_tmpfs "$T/shm" size=256m
C=$T/shm/cache
demo=$(mkwheel --out "$T/w" --name demo --version 1.0 \
	--file demo/__init__.py='X = 42' \
	--file demo/tool.sh='#!/bin/sh' --exec demo/tool.sh \
	--symlink demo/alias.py=__init__.py \
	--data-file purelib/demo_extra.py='Y = 7' \
	--file-size demo/blob.bin=300000)
pin_venv "$C" "$T/v" "$demo" "$PIP_WHL"
L=$T/v/lib
[[ $(pin_view_pinned "$L") == 0 ]] || fail "a fresh view is already pinned"

# The view's regular files: the summary must count exactly these.
nfiles=$("$PY" - "$demo" "$PIP_WHL" <<'PYEOF'
import stat, sys, zipfile
n = 0
for w in sys.argv[1:]:
    with zipfile.ZipFile(w) as zf:
        for i in zf.infolist():
            nm = i.filename
            if nm.endswith("/") or stat.S_ISLNK(i.external_attr >> 16) or nm.endswith(".dist-info/RECORD"):
                continue
            if ".data/" in nm and not any(s in nm for s in (".data/purelib/", ".data/platlib/")):
                continue
            n += 1
print(n)
PYEOF
)

run_ok "$WHEELFS" pin "$L"
summary=$(cat "$LAST_OUT")
echo "$summary"
grep -Eq "^pinned $nfiles files \(0 reflinked, 0 hardlinked, $nfiles copied, [0-9.]+ [KM]iB written\), 1 symlinks, [0-9]+ directories" <<<"$summary" ||
	fail "unexpected summary (expected $nfiles copied files): $summary"
grep -Fq "reflink skipped: the cache is on $T/shm (tmpfs) and the venv on / (ext4): different filesystems (EXDEV)" <<<"$summary" ||
	grep -Fq "reflink skipped: the cache is on $T/shm (tmpfs) and the venv on " <<<"$summary" ||
	fail "the summary does not say the cache is on another filesystem: $summary"
grep -q ": different filesystems (EXDEV)" <<<"$summary" || fail "no EXDEV reason: $summary"
grep -q "hardlink not used: you can write to any file (root" <<<"$summary" ||
	fail "the summary does not say why no hardlinks: $summary"
[[ $(wc -l <"$LAST_OUT") == 1 ]] || fail "more than one summary line"

pin_check "$L" "$demo" "$PIP_WHL" || fail "the pinned venv does not match its wheels"
[[ $(pin_view_pinned "$L") == 1 ]] || fail "the view is not marked pinned"
[[ -z $(pin_leftovers "$L") ]] || fail "temp files left: $(pin_leftovers "$L")"
[[ ! -e $L/.wheelfs/pinning ]] || fail "the journal is left behind"
# Copies, not links: every file has one link, none is a symlink into $C.
[[ -z $(find "$L" -type f -links +1) ]] || fail "hardlinked files after a copy pin"
[[ -z $(find "$L" -type l -lname "$C/*") ]] || fail "symlinks into the cache"

# Rerunning finds nothing to do.
run_ok "$WHEELFS" pin "$L"
grep -q "^nothing to pin" "$LAST_OUT" || fail "a second pin did something: $(cat "$LAST_OUT")"

# Remove the cache: the venv does not care.
umount "$T/shm"
[[ ! -e $C ]] || fail "the cache is still there"
run_ok "$T/v/bin/python" -c 'import demo, demo_extra, pip; assert demo.X == 42 and demo_extra.Y == 7; print(pip.__version__)'
run_ok "$T/v/bin/python" -m pip list --disable-pip-version-check
grep -Eq '^demo +1\.0' "$LAST_OUT" || fail "pip list does not show demo: $(cat "$LAST_OUT")"
grep -Eq '^pip +[0-9]' "$LAST_OUT" || fail "pip list does not show pip: $(cat "$LAST_OUT")"
# A pinned venv whose cache is gone: pin says so and succeeds.
run_ok "$WHEELFS" pin "$L"
grep -q "already pinned" "$LAST_OUT" || fail "pin without the cache: $(cat "$LAST_OUT")"
echo "ok"
