#!/bin/bash
# Commands that change one venv at once never lose each other's changes:
# they take turns on the view lock (flock of VENV/lib).  Six concurrent
# `wheelfs install`s of different wheels into one venv leave all six in
# the view, with their files, scripts and RECORDs; the same on a mounted
# venv, where all six import live; then an uninstall and two installs at
# once; then an uninstall during a pin.
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
. "$WFS_LIB_DIR/mount_lib.sh"

C=$T/cache
W=$T/wheels
mkdir -p "$W"
names=(p0 p1 p2 p3 p4 p5)
for n in "${names[@]}" q0 q1; do
	mkwheel --out "$W" --name "$n" --version 1.0 \
		--file "$n/__init__.py=NAME = '$n'" --file-size "$n/data.bin=3000:$n" \
		--entry-point "console_scripts:$n-tool=$n:NAME" >/dev/null
done
run_ok "$WHEELFS" add -q "$C" "$W"/*.whl

at_once() { # VENV CMD...: run "wheelfs CMD... VENV WHEEL" per name in $names
	local venv=$1 pids=() n i
	shift
	for n in "${names[@]}"; do
		"$WHEELFS" "$@" "$venv" "$(ls "$W"/"$n"-*.whl)" >"$T/out.$n" 2>&1 &
		pids+=($!)
	done
	i=0
	for n in "${names[@]}"; do
		wait "${pids[i]}" || fail "wheelfs $* $venv ($n) failed: $(cat "$T/out.$n")"
		i=$((i + 1))
	done
}
has_all() { # VENV NAME...: in the view (show), importable (mounted), with launchers
	local venv=$1 n
	shift
	run_ok "$WHEELFS" show "$venv"
	for n in "$@"; do
		grep -q "^$n " "$LAST_OUT" || fail "$n is not in the view of $venv: $(cat "$LAST_OUT")"
		[[ -x $venv/bin/$n-tool ]] || fail "no launcher for $n in $venv"
		[[ -f $(site_of "$venv")/$n-1.0.dist-info/RECORD ]] || fail "no RECORD for $n in $venv"
		[[ $(vpy "$venv" -c "import $n; print($n.NAME)") == "$n" ]] || fail "$n does not import from $venv"
	done
}

# Not mounted (then mounted, to import).
mkvenv "$T/v1"
at_once "$T/v1" install -q --cache "$C"
mnt "$T/v1"
has_all "$T/v1" "${names[@]}"
umnt "$T/v1"

# Mounted: each install reloads the daemon.
mkvenv "$T/v2"
vinstall "$C" "$T/v2" "$W"/q0-*.whl
mnt "$T/v2"
at_once "$T/v2" install -q --cache "$C"
has_all "$T/v2" q0 "${names[@]}"

# One uninstall and two installs at once.
names=(q1)
"$WHEELFS" uninstall "$T/v2" p0 >"$T/out.un" 2>&1 &
un=$!
at_once "$T/v2" install -q --cache "$C"
wait $un || fail "uninstall p0 failed: $(cat "$T/out.un")"
run_ok "$WHEELFS" show "$T/v2"
grep -q "^p0 " "$LAST_OUT" && fail "p0 is still in the view"
has_all "$T/v2" q0 q1 p1 p2 p3 p4 p5
expect_fail_match "No module named 'p0'" vpy "$T/v2" -c 'import p0'
umnt "$T/v2"

# An uninstall while a pin runs waits for it, so that the pin does not go
# on placing files of a distribution that is gone.
names=(p0 p1 p2 p3 p4 p5)
mkvenv "$T/v3"
at_once "$T/v3" install -q --cache "$C"
WFS_TEST_PIN_DELAY_US=20000 "$WHEELFS" pin -q "$T/v3/lib" >"$T/out.pin" 2>&1 &
pin=$!
for _ in $(seq 400); do # up to 20 s, until the pin has begun
	[[ -e $T/v3/lib/.wheelfs/pinning ]] && break
	sleep 0.05
done
[[ -e $T/v3/lib/.wheelfs/pinning ]] || fail "the pin did not start: $(cat "$T/out.pin")"
run_ok "$WHEELFS" uninstall -q "$T/v3" p5
wait $pin || fail "pin failed: $(cat "$T/out.pin")"
[[ ! -e $(site_of "$T/v3")/p5 ]] || fail "files of p5 were left by a pin that ran on: $(ls -R "$(site_of "$T/v3")/p5")"
run_ok "$WHEELFS" show "$T/v3"
grep -q "^p5 " "$LAST_OUT" && fail "p5 is still in the view"
echo ok
