#!/bin/bash
# Live reload: `wheelfs install` / `wheelfs uninstall` on a mounted venv
# (they write through the control socket's DIRFD and send RELOAD), and a
# view record rewritten by hand through DIRFD.  The live mount shows added
# distributions (even names the kernel had cached as missing), no longer
# shows removed ones, shows new content for upgraded files, keeps inode
# numbers of unchanged paths, and survives a bad view (RELOAD answers ERR,
# the old view stays).  Other users cannot use the control socket.
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
. "$WFS_LIB_DIR/mount_lib.sh"

C=$T/cache
V=$T/venv
W=$T/wheels
mkdir -p "$W"
a1=$(pure_wheel "$W" alpha 1.0)
mkdir -p "$W/2"
a2=$(pure_wheel "$W/2" alpha 2.0)
beta=$(pure_wheel "$W" beta 1.0)
keep=$(pure_wheel "$W" keep 1.0)
mkvenv "$V"
vinstall "$C" "$V" "$a1" "$keep"
S=$(site_of "$V")
mnt "$V"

ctl() { # REQUEST [REQUEST...]: talk to the daemon serving $V/lib
	"$PY" - "$(printf %s "$(realpath "$V/lib")" | xxh128sum | cut -d' ' -f1)" "$@" <<'EOF'
import socket, sys
s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
s.connect("\0wheelfs-" + sys.argv[1])
for req in sys.argv[2:]:
    s.sendall(req.encode() + b"\n")
    msg, fds, _, _ = socket.recv_fds(s, 1024, 1)
    print(msg.decode().strip(), len(fds))
EOF
}

run_ok ctl PING
[[ $(cat "$LAST_OUT") == "OK 0" ]] || fail "PING: $(cat "$LAST_OUT")"
keep_ino=$(stat -c %i "$S/keep/__init__.py")
run_ok cat "$S/alpha/__init__.py"
grep -q "VERSION = '1.0'" "$LAST_OUT" || fail "alpha 1.0 content: $(cat "$LAST_OUT")"
# the kernel caches "beta does not exist"
[[ ! -e $S/beta ]] || fail "beta exists before its install"
ls "$S" >/dev/null

# install into the live mount
vinstall "$C" "$V" "$beta"
[[ -e $S/beta/__init__.py ]] || fail "beta not visible after a live install"
ls "$S" | grep -qx beta || fail "beta not listed after a live install: $(ls "$S")"
run_ok vpy "$V" -c 'import beta, alpha; print(beta.VERSION, alpha.VERSION)'
[[ $(cat "$LAST_OUT") == "1.0 1.0" ]] || fail "after install: $(cat "$LAST_OUT")"

# upgrade: same path, new content
vinstall "$C" "$V" "$a2"
run_ok cat "$S/alpha/__init__.py"
grep -q "VERSION = '2.0'" "$LAST_OUT" || fail "alpha not upgraded in the live mount: $(cat "$LAST_OUT")"
[[ -d $S/alpha-2.0.dist-info && ! -e $S/alpha-1.0.dist-info ]] || fail "dist-info not switched: $(ls "$S")"
[[ $(stat -c %i "$S/keep/__init__.py") == "$keep_ino" ]] || fail "inode number of an unchanged path changed"

# uninstall from the live mount
run_ok "$WHEELFS" uninstall -q "$V" beta
[[ ! -e $S/beta ]] || fail "beta still visible after a live uninstall"
ls "$S" | grep -q '^beta' && fail "beta still listed: $(ls "$S")"
expect_fail_match "No module named 'beta'" vpy "$V" -c 'import beta'

# the view record rewritten by hand through DIRFD, then RELOAD
"$PY" - "$(printf %s "$(realpath "$V/lib")" | xxh128sum | cut -d' ' -f1)" <<'EOF' || fail "DIRFD rewrite"
import os, socket, sys
s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
s.connect("\0wheelfs-" + sys.argv[1])
s.sendall(b"DIRFD\n")
msg, fds, _, _ = socket.recv_fds(s, 1024, 1)
assert msg == b"OK\n" and len(fds) == 1, (msg, fds)
fd = fds[0]
view = open(f"/proc/self/fd/{fd}/.wheelfs/view").read()
lines = [l for l in view.splitlines() if not l.startswith("dist keep ")]
assert len(lines) < len(view.splitlines())
tmp = f"/proc/self/fd/{fd}/.wheelfs/view.tmp"
with open(tmp, "w") as f:
    f.write("\n".join(lines) + "\n")
os.rename(tmp, f"/proc/self/fd/{fd}/.wheelfs/view")
s.sendall(b"RELOAD\n")
assert s.recv(100) == b"OK\n"
EOF
[[ ! -e $S/keep ]] || fail "keep still visible after the view dropped it"
[[ -e $S/alpha/__init__.py ]] || fail "alpha vanished"

# a bad view: RELOAD fails, the mount keeps the old one
"$PY" - "$(printf %s "$(realpath "$V/lib")" | xxh128sum | cut -d' ' -f1)" <<'EOF' || fail "bad view reload"
import os, socket, sys
s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
s.connect("\0wheelfs-" + sys.argv[1])
s.sendall(b"DIRFD\n")
msg, fds, _, _ = socket.recv_fds(s, 1024, 1)
p = f"/proc/self/fd/{fds[0]}/.wheelfs/view"
good = open(p).read()
open(p, "w").write(good + "dist ghost 1.0 " + "0" * 32 + " 1\n")
s.sendall(b"RELOAD\n")
reply = s.recv(1000).decode()
assert reply.startswith("ERR "), reply
print("reload refused:", reply.strip())
open(p, "w").write(good)
s.sendall(b"RELOAD\n")
assert s.recv(100) == b"OK\n"
EOF
[[ -e $S/alpha/__init__.py ]] || fail "alpha vanished after a failed reload"
grep -q "reload of .* failed" "$MOUNT_LOG" || fail "a failed reload was not logged"

# another user cannot talk to the daemon
if command -v setpriv >/dev/null; then
	h=$(printf %s "$(realpath "$V/lib")" | xxh128sum | cut -d' ' -f1)
	out=$(setpriv --reuid=65534 --regid=65534 --clear-groups "$PY" -c '
import socket, sys
s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
s.connect("\0wheelfs-" + sys.argv[1])
s.sendall(b"DIRFD\n")
print(repr(s.recv(100)))' "$h" 2>&1) || true
	[[ $out == "b''" || $out == *ConnectionReset* || $out == *BrokenPipe* ]] ||
		fail "nobody got an answer: $out"
fi
umnt "$V"
echo ok
