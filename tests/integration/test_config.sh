#!/bin/bash
# wheelfs.conf: every bad value (a negative or overflowing size, a number
# out of the range its flag takes, a timeout that is no finite number, an
# unknown [pin] mode) fails every command with one line naming the file,
# the section and the key, and exit status 1; a WHEELFS_CONFIG that is a
# directory is an error.  Good values are taken, and the cache path
# follows flag > WHEELFS_CACHE_DIR > [cache] path, with WHEELFS_CONFIG
# read instead of ~/.config/wheelfs/wheelfs.conf.
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

C=$T/cache
W=$(mkwheel --out "$T/in" --name demo --version 1.0 --file demo/__init__.py='x = 1')
run_ok "$WHEELFS" add -q "$C" "$W"
export HOME=$T/home
unset WHEELFS_CACHE_DIR XDG_CACHE_HOME

conf() { # SECTION KEY VALUE: write $T/c.conf
	printf '[%s]\n%s = %s\n' "$1" "$2" "$3" >"$T/c.conf"
}

bad() { # SECTION KEY VALUE [REGEX]
	conf "$1" "$2" "$3"
	local cmd
	for cmd in "ls $C" "verify $C" "add -q $C $W"; do
		# shellcheck disable=SC2086
		WHEELFS_CONFIG=$T/c.conf expect_fail_match \
			"^wheelfs: $T/c\\.conf: \\[$1\\] $2: ${4:-bad value}" "$WHEELFS" $cmd
		[[ $LAST_RC == 1 ]] || fail "[$1] $2 = $3: exit status $LAST_RC"
		[[ $(grep -c . "$LAST_ERR") == 1 ]] || fail "[$1] $2 = $3: not one line: $(cat "$LAST_ERR")"
		[[ ! -s $LAST_OUT ]] || fail "[$1] $2 = $3: $cmd ran: $(cat "$LAST_OUT")"
	done
}

good() { # SECTION KEY VALUE
	conf "$1" "$2" "$3"
	WHEELFS_CONFIG=$T/c.conf run_ok "$WHEELFS" ls "$C"
}

bad add max_file_size -1
bad add max_file_size ' -5'
bad add max_file_size 99999999999999T
bad add max_file_size 16777216T
bad add max_file_size 4iB
bad add max_wheel_size ''
bad add max_wheel_size 1X
good add max_file_size 4KiB
good add max_file_size 16M
good add max_wheel_size 16777215T
bad add jobs ''
bad add jobs -1
bad add jobs 1025
bad add jobs 99999999999
bad add jobs 2x
good add jobs 1024
bad mount threads 257
bad mount threads ''
good mount threads 4
bad mount timeout nan
bad mount timeout inf
bad mount timeout ''
bad mount timeout -1
good mount timeout 0.5
bad pin mode fast "unknown pin mode 'fast'"
good pin mode symlink

# An unknown key.
conf add jbos 2
WHEELFS_CONFIG=$T/c.conf expect_fail_match "^wheelfs: $T/c\\.conf: unknown key \\[add\\] jbos" "$WHEELFS" ls "$C"
[[ $LAST_RC == 1 ]] || fail "unknown key: exit status $LAST_RC"

# WHEELFS_CONFIG must name a file that exists and is one.
WHEELFS_CONFIG=$T/none.conf expect_fail_match "^wheelfs: $T/none\\.conf: No such file" "$WHEELFS" ls "$C"
WHEELFS_CONFIG=$T expect_fail_match "^wheelfs: $T: Is a directory" "$WHEELFS" ls "$C"
[[ $LAST_RC == 1 ]] || fail "a directory as WHEELFS_CONFIG: exit status $LAST_RC"

# The cache: flag > WHEELFS_CACHE_DIR > [cache] path of the file
# WHEELFS_CONFIG names (not ~/.config/wheelfs/wheelfs.conf).
mkdir -p "$HOME/.config/wheelfs"
printf '[cache]\npath = %s\n' "$T/home-cache" >"$HOME/.config/wheelfs/wheelfs.conf"
expect_fail_match "$T/home-cache: cannot open cache" "$WHEELFS" ls
conf cache path "$C"
WHEELFS_CONFIG=$T/c.conf run_ok "$WHEELFS" ls
grep -q '^demo ' "$LAST_OUT" || fail "[cache] path of WHEELFS_CONFIG was not used"
WHEELFS_CONFIG=$T/c.conf WHEELFS_CACHE_DIR=$T/env-cache expect_fail_match \
	"$T/env-cache: cannot open cache" "$WHEELFS" ls
WHEELFS_CONFIG=$T/c.conf WHEELFS_CACHE_DIR=$T/env-cache run_ok "$WHEELFS" ls "$C"
echo ok
