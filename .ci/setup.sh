#!/usr/bin/env bash
# .ci/setup.sh demo|test — the two set-up commands of README.md.
#   demo: install what is needed, build, and run the demo (tests/demo.sh).
#   test: install what is needed, check formatting (clang-format), build
#         twice (Release, and ASan+UBSan), and run the whole ctest suite on
#         both builds.
# Works as root or through sudo, on a fresh Debian 12 machine.
set -euo pipefail
what=${1:-test}
top=$(cd "$(dirname "$0")/.." && pwd)
cd "$top"

sudo=
[ "$(id -u)" = 0 ] || sudo=sudo

packages=(
	build-essential cmake pkg-config
	libfuse3-dev fuse3 libxxhash-dev xxhash libinih-dev libzip-dev libssl-dev
	python3 python3-dev python3-venv python3-pip python3-pip-whl
	python3-setuptools-whl xfsprogs
)
# The test command also checks formatting.
[ "$what" = test ] && packages+=(clang-format)
missing=()
for p in "${packages[@]}"; do
	dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'ok installed' ||
		missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
	echo "installing: ${missing[*]}"
	$sudo apt-get update -q
	DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -q "${missing[@]}"
fi

build() { # build DIR [cmake args...]
	local dir=$1
	shift
	cmake -S "$top" -B "$dir" "$@" >/dev/null
	cmake --build "$dir" -j"$(nproc)"
}

case "$what" in
demo)
	build "$top/build" -DCMAKE_BUILD_TYPE=Release
	exec bash "$top/tests/demo.sh" "$top/build/tools/wheelfs"
	;;
test)
	echo "== clang-format (.clang-format) =="
	git -C "$top" ls-files -z '*.c' '*.h' |
		(cd "$top" && xargs -0 clang-format --dry-run --Werror)
	# Release, as the demo and the benchmarks build it (-O3 finds
	# warnings -O2 does not).
	build "$top/build" -DCMAKE_BUILD_TYPE=Release
	build "$top/build-asan" -DCMAKE_BUILD_TYPE=Debug -DWFS_SANITIZE=ON
	export ASAN_OPTIONS=detect_leaks=1:abort_on_error=1
	export UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1
	echo "== ASan+UBSan build =="
	(cd "$top/build-asan" && ctest --output-on-failure -j2)
	echo "== release build =="
	cd "$top/build" && ctest --output-on-failure -j2
	;;
*)
	echo "usage: $0 demo|test" >&2
	exit 2
	;;
esac
