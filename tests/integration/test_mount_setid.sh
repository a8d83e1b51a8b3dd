#!/bin/bash
# Set-user-ID and set-group-ID bits of a name made through the mount are
# those a native directory gives: a file made by open(O_CREAT), mknod or
# mkfifo with mode 04755, 02755, 06755 keeps them for its owner (a root
# daemon makes it and chowns it to the caller, and the kernel clears both
# bits on a chown of anything but a directory, even root's), minus the
# umask; a file made in a set-group-ID directory whose group the caller is
# not in loses S_ISGID (02745, without group execute, keeps it); mkdir
# ignores both bits and a directory inherits S_ISGID from its parent.
# Compared with a native directory, as root and as nobody in a directory
# nobody owns, in set-group-ID directories of root's group and of
# nobody's.  The mount is nosuid: stat shows the bits all the same.
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
. "$WFS_LIB_DIR/mount_lib.sh"
[[ $(id -u) == 0 ]] || skip "needs root (to run as nobody)"
command -v setpriv >/dev/null || skip "no setpriv"

C=$T/cache
V=$T/venv
whl=$(pure_wheel "$T/w" alpha 1.0)
mkvenv "$V"
vinstall "$C" "$V" "$whl"
S=$(site_of "$V")
chmod 0755 "$T"

# probe DIR UMASK: make names in DIR with every mode, print name, mode,
# owner and group of each.
probe() {
	"$PY" - "$@" <<'PY'
import os, stat, sys
d, mask = sys.argv[1], int(sys.argv[2], 8)
os.umask(mask)
for m in (0o4755, 0o2755, 0o6755, 0o2745, 0o6777):
    for kind in "fnpd":
        p = os.path.join(d, "%s%o" % (kind, m))
        if kind == "f":
            os.close(os.open(p, os.O_CREAT | os.O_WRONLY | os.O_EXCL, m))
        elif kind == "n":
            os.mknod(p, stat.S_IFREG | m)
        elif kind == "p":
            os.mkfifo(p, m)
        else:
            os.mkdir(p, m)
        st = os.lstat(p)
        print("%s %04o %d:%d" % (os.path.basename(p), stat.S_IMODE(st.st_mode),
                                st.st_uid, st.st_gid))
PY
}
as_nobody() {
	setpriv --reuid=65534 --regid=65534 --clear-groups "$@"
}

# setup BASE: BASE/root, BASE/own (nobody's), BASE/sg (nobody:root, 2775:
# nobody is not in root's group) and BASE/sg2 (root:nobody, 2777).
setup() {
	mkdir "$1/root" "$1/own" "$1/sg" "$1/sg2" "$1/mask"
	chown 65534:65534 "$1/own"
	chown 65534:0 "$1/sg"
	chmod 2775 "$1/sg"
	chown 0:65534 "$1/sg2"
	chmod 2777 "$1/sg2"
}
run_all() {
	probe "$1/root" 022
	probe "$1/mask" 077
	export -f probe
	export PY
	for d in own sg sg2; do
		as_nobody bash -c 'probe "$1" 022' - "$1/$d"
	done
}

N=$T/native
mkdir "$N"
setup "$N"
run_all "$N" >"$T/native.out" || fail "probe on the native directory failed"
grep -q '^f6755 6755 0:0$' "$T/native.out" || fail "native: $(cat "$T/native.out")"

mnt "$V" allow_other
mkdir "$S/t"
chmod 0755 "$V" "$V/lib" "$S/t"
setup "$S/t"
run_all "$S/t" >"$T/mount.out" || fail "probe through the mount failed"
diff -u "$T/native.out" "$T/mount.out" || fail "set-ID bits differ from a native directory's"
# what stat shows is what the upper layer keeps
umnt "$V"
mv "$T/mount.out" "$T/mount1.out"
for d in root mask own sg sg2; do
	for f in "$S/t/$d"/*; do
		printf '%s %04o\n' "${f##*/}" "0$(stat -c %a "$f")"
	done
done | sort >"$T/upper.out"
awk '{ print $1, $2 }' "$T/mount1.out" | sort >"$T/mount1.sorted"
diff -u "$T/mount1.sorted" "$T/upper.out" || fail "the upper layer does not keep the set-ID bits"
echo ok
