#!/bin/bash
# test_install_rerun.sh — an install interrupted while writing a file
# leaves its temp file (.wheelfs-tmp-inst.PID.RAND, next to the file it was
# to become: in bin/, include/, share/, a .dist-info of the upper layer);
# the rerun removes such leftovers where it writes, so the venv ends up as
# an uninterrupted install leaves it.  Other files are left alone.
source "$(dirname "$0")/lib.sh"
source "$(dirname "$0")/install_lib.sh"

mapfile -t wheels < <(demo_wheels "$T/wheels")
V=$T/venv
mkvenv "$V"
run_ok "$WHEELFS" install --cache "$T/cache" "$V" "${wheels[@]}"
site=$(site_of "$V")
want=$(cd "$V" && find . | sort)

# What a kill -9 between writing a temp file and renaming it leaves (seen
# with strace -e inject=renameat:signal=SIGKILL).
left=(bin/.wheelfs-tmp-inst.4242.6b8b4567
	"include/site/python$PYXY/demo-pkg/.wheelfs-tmp-inst.4242.327b23c6"
	share/demo-pkg/.wheelfs-tmp-inst.4242.643c9869
	"lib/python$PYXY/site-packages/demo_pkg-1.0.dist-info/.wheelfs-tmp-inst.4242.66334873")
for f in "${left[@]}"; do
	printf '#!/bin/sh\n' >"$V/$f"
	chmod 755 "$V/$f"
done
# Not an install's temp file: kept.
echo mine >"$V/bin/.wheelfs-tmp-mine"

run_ok "$WHEELFS" install --cache "$T/cache" "$V" "${wheels[@]}"
for f in "${left[@]}"; do
	[[ ! -e $V/$f ]] || fail "leftover $f not removed by the rerun"
done
[[ $(cat "$V/bin/.wheelfs-tmp-mine") == mine ]] || fail "bin/.wheelfs-tmp-mine was touched"
rm "$V/bin/.wheelfs-tmp-mine"
got=$(cd "$V" && find . | sort)
[[ $got == "$want" ]] || fail "the rerun left the venv different: $(diff <(echo "$want") <(echo "$got"))"
echo PASS
