#!/bin/bash
# pip inside a mounted venv: pip itself comes from the view (Debian's pip
# wheel installed with `wheelfs install`).  pip list and pip show see the
# view's distributions; pip uninstall -y of a view distribution leaves
# whiteouts that survive a remount; pip install of another wheel lands in
# the upper layer (checked in the underlying directory after unmount).
# pip uninstall of a distribution with 1,500 files in one directory: pip
# moves it aside (a rename of a lower directory: the daemon copies its
# content up first) and removes it.
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
. "$WFS_LIB_DIR/mount_lib.sh"
[[ -n $PIP_WHL ]] || skip "no pip wheel"

C=$T/cache
V=$T/venv
W=$T/wheels
mkdir -p "$W"
alpha=$(pure_wheel "$W" alpha 1.0)
beta=$(pure_wheel "$W" beta 2.0)
gamma=$(pure_wheel "$W" gamma 3.0)
args=()
for i in $(seq 1500); do args+=(--file-size "big/sub/m$i.py=20:$i"); done
big=$(mkwheel --out "$W" --name big --version 1.0 --file big/__init__.py= "${args[@]}")
mkvenv "$V"
vinstall "$C" "$V" "$PIP_WHL" "$alpha" "$beta" "$big"
S=$(site_of "$V")
mnt "$V"

pip() { vpy "$V" -m pip "$@"; }
run_ok pip list --format=freeze
sort "$LAST_OUT" >"$T/list"
for want in alpha==1.0 beta==2.0 "pip==$(basename "$PIP_WHL" | cut -d- -f2)"; do
	grep -qx "$want" "$T/list" || fail "pip list lacks $want: $(cat "$T/list")"
done
run_ok pip show -f alpha
grep -q '^Version: 1.0' "$LAST_OUT" || fail "pip show alpha: $(cat "$LAST_OUT")"
grep -q 'alpha/util.py' "$LAST_OUT" || fail "pip show -f lists no files: $(cat "$LAST_OUT")"

# uninstall a distribution that lives in the view
run_ok pip uninstall -y beta
[[ ! -e $S/beta ]] || fail "beta/ still visible after pip uninstall"
ls "$S" | grep -q '^beta' && fail "beta still listed: $(ls "$S")"
run_ok pip list --format=freeze
grep -q '^beta==' "$LAST_OUT" && fail "pip list still shows beta"
expect_fail_match "No module named 'beta'" vpy "$V" -c 'import beta'

run_ok pip uninstall -y big
[[ ! -e $S/big ]] || fail "big/ still visible after pip uninstall"
ls -a "$S" | grep -q 'big' && fail "big still listed: $(ls -a "$S")"

# install another wheel with pip: it lands in the upper layer
run_ok pip install --no-deps --no-index "$gamma"
run_ok vpy "$V" -c 'import gamma, alpha; print(gamma.VERSION)'
[[ $(cat "$LAST_OUT") == 3.0 ]] || fail "gamma: $(cat "$LAST_OUT")"
run_ok pip list --format=freeze
grep -qx 'gamma==3.0' "$LAST_OUT" || fail "pip list lacks gamma"

umnt "$V"
[[ -f $S/gamma/__init__.py ]] || fail "gamma is not in the upper layer"
[[ -f $S/gamma-3.0.dist-info/RECORD ]] || fail "gamma's RECORD is not in the upper layer"
[[ ! -e $S/alpha/__init__.py ]] || fail "alpha's files leaked into the upper layer"
grep -q "^w python$PYXY/site-packages/beta" "$V/lib/.wheelfs/whiteouts" ||
	fail "no whiteouts for beta"

# whiteouts survive a remount; the rest is still there
mnt "$V"
[[ ! -e $S/beta ]] || fail "beta came back after a remount"
ls -a "$S" | grep -q 'big' && fail "big came back after a remount: $(ls -a "$S")"
run_ok vpy "$V" -c 'import alpha, gamma, pip'
run_ok pip list --format=freeze
grep -q '^beta==' "$LAST_OUT" && fail "beta listed after a remount"
grep -qx 'alpha==1.0' "$LAST_OUT" || fail "alpha missing after a remount"
# pip can uninstall what it installed, and pip itself works on
run_ok pip uninstall -y gamma
[[ ! -e $S/gamma ]] || fail "gamma still there"
umnt "$V"
echo ok
