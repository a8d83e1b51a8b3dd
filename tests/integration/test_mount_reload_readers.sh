#!/bin/bash
# Readers racing live installs: while `wheelfs install` switches a mounted
# venv between two versions of a wheel (files whose content changes,
# symlinks whose target changes, directories that come and go), readers
# walk the package, stat, list, read and readlink everything, single-
# threaded and with 4 threads.  A name may vanish between a listing and its
# use (ENOENT, as natively), nothing else may fail: a symlink the kernel
# still resolves to its replaced node reads as it was (it answered EINVAL).
# The daemon logs nothing: a reload's invalidations reach the nodes they
# name, not nodes made meanwhile at a freed one's address (the kernel
# answered ENOTDIR, logged as 'fuse: writing device'), nor a sanitizer
# report (lib.sh).  Release builds hit both races far more often.
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
. "$WFS_LIB_DIR/mount_lib.sh"

C=$T/cache
W=$T/wheels
mkdir -p "$W/1" "$W/2"
churn() { # VERSION OUTDIR
	local v=$1 args=()
	for i in $(seq 0 29); do
		args+=(--file "churn/m$i.py=V = '$v' * $((i * v + 1))"$'\n')
		args+=(--symlink "churn/l$i=m$(((i + v) % 30)).py")
	done
	for i in $(seq 0 $((4 * v))); do
		args+=(--file "churn/sub$v/d$i/x.py=X = $i"$'\n')
	done
	mkwheel --out "$2" --name churn --version "$v.0" \
		--file "churn/__init__.py=V = $v"$'\n' "${args[@]}"
}
w1=$(churn 1 "$W/1")
w2=$(churn 2 "$W/2")
ROUNDS=${WFS_RELOAD_ROUNDS:-150}

for opts in "" threads=4; do
	V=$T/venv${opts:+-mt}
	mkvenv "$V"
	vinstall "$C" "$V" "$w1"
	mnt "$V" "$opts"
	rm -f "$T/stop"
	pids=()
	for r in 1 2 3; do
		"$PY" - "$(site_of "$V")/churn" "$T/stop" >"$T/rd.$r.out" 2>&1 <<'PY' &
import errno, os, sys
top, stop = sys.argv[1], sys.argv[2]
bad = []
def use(p):
    try:
        st = os.lstat(p)
        if os.path.stat.S_ISLNK(st.st_mode):
            os.readlink(p)
        elif os.path.stat.S_ISREG(st.st_mode):
            with open(p, "rb") as f:
                f.read()
        else:
            for e in os.scandir(p):
                e.stat(follow_symlinks=False)
    except OSError as e:
        if e.errno not in (errno.ENOENT, errno.ENOTDIR):
            bad.append(f"{p}: {e}")
passes = 0
while not os.path.exists(stop) and len(bad) < 10:
    for root, dirs, files in os.walk(top):
        for name in sorted(files + dirs):
            use(os.path.join(root, name))
    passes += 1
print("\n".join(bad) if bad else f"ok {passes}")
PY
		pids+=($!)
	done
	for i in $(seq 1 "$ROUNDS"); do
		w=$w1
		((i % 2)) && w=$w2
		"$WHEELFS" install -q --cache "$C" "$V" "$w" >"$T/inst.out" 2>&1 ||
			{ cat "$T/inst.out"; fail "install $i failed (${opts:-single-threaded})"; }
	done
	touch "$T/stop"
	for r in "${!pids[@]}"; do
		wait "${pids[r]}" || { cat "$T/rd.$((r + 1)).out"; fail "reader $((r + 1)) crashed"; }
		grep -q '^ok ' "$T/rd.$((r + 1)).out" ||
			fail "reader $((r + 1)) (${opts:-single-threaded}): $(cat "$T/rd.$((r + 1)).out")"
	done
	vpy "$V" -c 'import churn; assert churn.V == 1, churn.V' || fail "churn is not at 1.0 at the end"
	umnt "$V"
	[[ ! -s $MOUNT_LOG ]] || fail "the daemon logged (${opts:-single-threaded}): $(sort "$MOUNT_LOG" | uniq -c)"
	echo "${opts:-single-threaded}: $ROUNDS live installs under 3 readers: $(cat "$T"/rd.*.out | tr '\n' ' ')"
done
echo ok
