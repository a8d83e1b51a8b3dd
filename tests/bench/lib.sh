# lib.sh — shared helpers for tests/bench/*.sh (source it, don't run it).
#
# Environment:
#   WFS_BENCH_DIR     scratch root (default /var/tmp/wheelfs-bench)
#   WFS_BENCH_WHEELS  the benchmark wheel set (default $WFS_BENCH_DIR/wheels)
#   WFS_BENCH_ROUNDS  rounds per benchmark (default 3)
#   WFS_BENCH_KEEP=1  keep $WFS_BENCH_WORK (caches, venvs) after the run
#   WFS_BENCH_DROP_CACHES=1  drop the page cache before each timed step
#                     (root only; off by default: the benchmarks compare
#                     warm-page-cache runs)
#
# Provides:
#   $PY $WFS_REPO_ROOT $WFS_BENCH_LIB_DIR $WFS_BENCH_WORK $WFS_PIP_WHL
#   bench_log MSG / bench_die MSG
#   bench_wheelfs [PATH]      absolute path of the wheelfs binary (default
#                             build/tools/wheelfs under the repo root); dies
#                             with a build hint when missing
#   bench_setup               run setup.sh (skipped when WFS_BENCH_SKIP_SETUP=1)
#   bench_wheels ARRAY        fill ARRAY with the set's *.whl paths (sorted)
#   bench_fresh DIR           remove DIR (not timed) and settle
#   bench_settle              sync (and drop caches when asked) so one step's
#                             dirty pages are not charged to the next
#   bench_time VAR CMD...     run CMD, set VAR to its wall time in seconds;
#                             output goes to $WFS_BENCH_WORK/last.log, shown
#                             and fatal when CMD fails
#   bench_venv DIR            a fresh venv without pip (not timed)
#   bench_pip VENV ARGS...    Debian's pip wheel run by VENV's python
#   bench_pip_install VENV WHEEL...   pip install --no-deps --no-index
#                             --no-compile into VENV
#   bench_record SERIES VALUE append VALUE to a named series
#   bench_series SERIES       print a series, one value a line
#   bench_ratio A B           A/B
#   bench_median V...         median of the values
#   bench_paired_median NUM DEN   median of NUM[i]/DEN[i] over two series
#   bench_table SERIES...     a table: one row per round plus a median row;
#                             a column "a/b" is the paired ratio of series
#                             a and b (its median row is the paired median)
#   bench_du DIR              apparent size in MB and file count of DIR
#   bench_sysinfo             one line describing the machine

set -euo pipefail

WFS_BENCH_LIB_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
WFS_REPO_ROOT=$(cd "$WFS_BENCH_LIB_DIR/../.." && pwd)
PY=/usr/bin/python3
: "${WFS_BENCH_DIR:=/var/tmp/wheelfs-bench}"
: "${WFS_BENCH_WHEELS:=$WFS_BENCH_DIR/wheels}"
: "${WFS_BENCH_ROUNDS:=3}"
WFS_BENCH_WORK=$WFS_BENCH_DIR/work
export WFS_BENCH_DIR WFS_BENCH_WHEELS

bench_log() {
	printf '[%s] %s\n' "$(date +%H:%M:%S)" "$*" >&2
}

bench_die() {
	echo "bench: $*" >&2
	exit 1
}

# --- paths ------------------------------------------------------------------

bench_wheelfs() {
	local bin=${1:-$WFS_REPO_ROOT/build/tools/wheelfs}
	case $bin in /*) ;; *) bin=$PWD/$bin ;; esac
	[[ -x $bin ]] || bench_die "no wheelfs binary at $bin; build it:
  cmake -S $WFS_REPO_ROOT -B $WFS_REPO_ROOT/build -DCMAKE_BUILD_TYPE=Release && cmake --build $WFS_REPO_ROOT/build -j2"
	echo "$bin"
}

bench_setup() {
	if [[ ${WFS_BENCH_SKIP_SETUP:-0} == 1 ]]; then
		[[ -d $WFS_BENCH_WHEELS ]] || bench_die "WFS_BENCH_SKIP_SETUP=1 but no $WFS_BENCH_WHEELS"
		return 0
	fi
	bash "$WFS_BENCH_LIB_DIR/setup.sh" >&2
}

bench_wheels() {
	local -n _out=$1
	local f
	_out=()
	for f in "$WFS_BENCH_WHEELS"/*.whl; do
		[[ -f $f ]] && _out+=("$f")
	done
	((${#_out[@]})) || bench_die "no wheels in $WFS_BENCH_WHEELS (run setup.sh)"
}

# --- scratch dirs -----------------------------------------------------------

bench_settle() {
	sync
	if [[ ${WFS_BENCH_DROP_CACHES:-0} == 1 ]]; then
		if [[ -w /proc/sys/vm/drop_caches ]]; then
			echo 3 >/proc/sys/vm/drop_caches
		else
			bench_log "WFS_BENCH_DROP_CACHES=1 needs root; not dropping"
		fi
	fi
}

bench_fresh() {
	local d
	for d in "$@"; do
		case $d in "$WFS_BENCH_DIR"/*) ;; *) bench_die "refusing to remove $d (outside $WFS_BENCH_DIR)" ;; esac
		if [[ -e $d ]]; then
			# a leftover cache has read-only blobs: rm -rf copes as root,
			# chmod first for everyone else
			chmod -R u+w "$d" 2>/dev/null || true
			rm -rf "$d"
		fi
	done
	bench_settle
}

bench_cleanup_work() {
	if [[ ${WFS_BENCH_KEEP:-0} == 1 ]]; then
		bench_log "kept $WFS_BENCH_WORK"
	else
		bench_fresh "$WFS_BENCH_WORK"
	fi
}

# --- timing -----------------------------------------------------------------

bench_now() {
	date +%s.%N
}

bench_time() {
	local -n _t=$1
	shift
	local t0 t1 rc=0
	mkdir -p "$WFS_BENCH_WORK"
	t0=$(bench_now)
	"$@" >"$WFS_BENCH_WORK/last.log" 2>&1 || rc=$?
	t1=$(bench_now)
	if ((rc)); then
		tail -n 30 "$WFS_BENCH_WORK/last.log" >&2
		bench_die "failed (exit $rc): $*"
	fi
	_t=$(awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.3f", b - a }')
}

# --- python -----------------------------------------------------------------

WFS_PIP_WHL=$(ls /usr/share/python-wheels/pip-*.whl 2>/dev/null | sort -V | tail -n 1 || true)

bench_venv() {
	bench_fresh "$1"
	"$PY" -m venv --without-pip "$1"
}

bench_pip() {
	local venv=$1
	shift
	[[ -n $WFS_PIP_WHL ]] || bench_die "no /usr/share/python-wheels/pip-*.whl (apt-get install python3-pip-whl)"
	PIP_DISABLE_PIP_VERSION_CHECK=1 PIP_NO_INPUT=1 \
		"$venv/bin/python" "$WFS_PIP_WHL/pip" "$@"
}

bench_pip_install() {
	local venv=$1
	shift
	bench_pip "$venv" install --no-deps --no-index --no-compile -q "$@"
}

# --- series and statistics --------------------------------------------------

declare -gA _BENCH_SERIES=()

bench_record() {
	_BENCH_SERIES[$1]+="$2 "
}

bench_series() {
	local v
	for v in ${_BENCH_SERIES[$1]:-}; do
		echo "$v"
	done
}

bench_ratio() {
	awk -v a="$1" -v b="$2" 'BEGIN { if (b == 0) print "inf"; else printf "%.3f", a / b }'
}

bench_median() {
	(($#)) || bench_die "bench_median: no values"
	printf '%s\n' "$@" | sort -g | awk '{ v[NR] = $1 }
		END { if (NR % 2) m = v[(NR + 1) / 2]; else m = (v[NR / 2] + v[NR / 2 + 1]) / 2
		      printf "%.3f", m }'
}

# bench_ratios NUM DEN: the paired ratios, one a line
bench_ratios() {
	paste -d' ' <(bench_series "$1") <(bench_series "$2") |
		awk '{ if ($2 == 0) print "inf"; else printf "%.3f\n", $1 / $2 }'
}

bench_paired_median() {
	local -a r
	mapfile -t r < <(bench_ratios "$1" "$2")
	bench_median "${r[@]}"
}

bench_table() {
	local col rows=0 i n
	local -a cols=("$@") vals
	local -A data=()
	for col in "${cols[@]}"; do
		if [[ $col == */* ]]; then
			mapfile -t vals < <(bench_ratios "${col%%/*}" "${col#*/}")
			data[$col,median]=$(bench_paired_median "${col%%/*}" "${col#*/}")
		else
			mapfile -t vals < <(bench_series "$col")
			data[$col,median]=$(bench_median "${vals[@]}")
		fi
		n=${#vals[@]}
		((n > rows)) && rows=$n
		for ((i = 0; i < n; i++)); do
			data[$col,$((i + 1))]=${vals[i]}
		done
	done
	printf '%-8s' round
	for col in "${cols[@]}"; do printf ' %12s' "$col"; done
	echo
	for ((i = 1; i <= rows; i++)); do
		printf '%-8s' "$i"
		for col in "${cols[@]}"; do printf ' %12s' "${data[$col,$i]:--}"; done
		echo
	done
	printf '%-8s' median
	for col in "${cols[@]}"; do printf ' %12s' "${data[$col,median]}"; done
	echo
}

# --- misc -------------------------------------------------------------------

bench_du() {
	find "$1" -type f -printf '%s\n' |
		awk '{ s += $1; n++ } END { printf "%.1f MB in %d files", s / 1e6, n }'
}

bench_sysinfo() {
	echo "$(nproc) cpus, $(awk '/MemTotal/ { printf "%.0f GiB", $2 / 1048576 }' /proc/meminfo)," \
		"$(uname -sr), $(stat -f -c %T "$WFS_BENCH_DIR" 2>/dev/null || echo '?') at $WFS_BENCH_DIR"
}
