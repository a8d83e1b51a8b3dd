# hostile.sh — shared body of the test_hostile_<kind>.sh tests.
#
# hostile_case KIND REGEX builds `mkwheel.py --hostile KIND` and checks that
# `wheelfs add CACHE bad.whl`:
#   - exits 1 (the contract: 1 when a source failed; not a crash);
#   - prints exactly one line on stderr, "wheelfs: <source>: <entry>: <reason>",
#     naming the wheel file, whose text (the source path removed) matches
#     REGEX, case-insensitively;
#   - publishes no tree (trees/ empty, `wheelfs ls` prints nothing), leaves
#     only valid blobs and an empty CACHE/tmp, and no symlink in the cache;
#   - writes nothing outside the cache: the directory holding the cache, the
#     wheel and the working directory is unchanged, and so are /etc/passwd and
#     the usual "evil" targets (/etc/evil, /evil, $TMPDIR/evil).

. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

hostile_case() {
	local kind=$1 re=$2
	local root=$T/h
	local cache=$root/cache
	mkdir -p "$root/in" "$root/cwd"

	local whl base
	whl=$(mkwheel --out "$root/in" --hostile "$kind")
	base=${whl##*/}
	[[ -f $whl ]] || fail "mkwheel did not write $whl"

	local evil=(/etc/evil /evil "${TMPDIR:-/tmp}/evil" "$T/evil" "$root/evil")
	local p before_evil="" after_evil="" before_root after_root before_passwd after_passwd
	for p in "${evil[@]}"; do [[ -e $p || -L $p ]] && before_evil+="$p "; done
	before_root=$(tree_snapshot "$root")
	before_passwd=$(sha256sum /etc/passwd)

	cd "$root/cwd"
	_wfs_run "$WHEELFS" add "$cache" "$whl"
	cd "$T"

	if [[ $LAST_RC != 1 ]]; then
		_wfs_show "$WHEELFS add $cache $whl"
		fail "$kind: expected exit status 1, got $LAST_RC"
	fi
	local nlines line reason
	nlines=$(grep -c . "$LAST_ERR" || true)
	if [[ $nlines != 1 ]]; then
		_wfs_show "$WHEELFS add $cache $whl"
		fail "$kind: expected exactly one line on stderr, got $nlines"
	fi
	line=$(grep . "$LAST_ERR")
	[[ $line == "wheelfs: "* ]] || fail "$kind: error does not start with 'wheelfs: ': $line"
	[[ $line == *"$base"* ]] || fail "$kind: error does not name $base: $line"
	reason=${line//"$whl"/}
	reason=${reason//"$base"/}
	echo "$reason" | grep -Eiq -- "$re" ||
		fail "$kind: error does not match /$re/: $line"
	echo "ok: $kind refused: $line"

	# No tree, nothing half-written.
	[[ $(count_trees "$cache") == 0 ]] || fail "$kind: a tree was published: $(ls "$cache/trees")"
	if [[ -d $cache ]]; then
		run_ok "$WHEELFS" ls "$cache"
		[[ ! -s $LAST_OUT ]] || fail "$kind: ls lists something: $(cat "$LAST_OUT")"
		[[ -d $cache/blobs ]] && check_blobs "$cache"
		[[ -z $(find "$cache" -type l) ]] || fail "$kind: symlink in the cache: $(find "$cache" -type l)"
		[[ -z $(find "$cache" -name '*evil*') ]] || fail "$kind: evil name in the cache: $(find "$cache" -name '*evil*')"
	fi

	# Nothing outside the cache.
	after_root=$(tree_snapshot "$root" | grep -v '^\./cache[ /]' || true)
	before_root=$(echo "$before_root" | grep -v '^\./cache[ /]' || true)
	if [[ $before_root != "$after_root" ]]; then
		diff <(echo "$before_root") <(echo "$after_root") >&2 || true
		fail "$kind: files changed next to the cache"
	fi
	for p in "${evil[@]}"; do [[ -e $p || -L $p ]] && after_evil+="$p "; done
	[[ $before_evil == "$after_evil" ]] || fail "$kind: created outside the cache: $after_evil"
	after_passwd=$(sha256sum /etc/passwd)
	[[ $before_passwd == "$after_passwd" ]] || fail "$kind: /etc/passwd changed"
}
