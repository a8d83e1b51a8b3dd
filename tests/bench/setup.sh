#!/bin/bash
# setup.sh — install what the benchmarks need and build the wheel set.
# Idempotent: packages already installed are not asked for again, and
# mkwheels.py keeps wheels that already exist (pass --force to rebuild them).
#
#   tests/bench/setup.sh [--force]
#
# WFS_BENCH_WHEELS (default ${WFS_BENCH_DIR:-/var/tmp/wheelfs-bench}/wheels)
# is where the wheels go; WFS_BENCH_PACKAGES=p1,p2 builds another set.
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

mk=(--out "$WFS_BENCH_WHEELS" --prune)
if [[ -n ${WFS_BENCH_PACKAGES:-} ]]; then
	mk+=(--packages "$WFS_BENCH_PACKAGES")
	IFS=, read -ra pkgs <<<"$WFS_BENCH_PACKAGES"
	for i in "${!pkgs[@]}"; do
		[[ ${pkgs[i]} == python3-* ]] || pkgs[i]=python3-${pkgs[i]}
	done
else
	mapfile -t pkgs < <("$PY" "$WFS_BENCH_LIB_DIR/mkwheels.py" --list)
fi
# venv --without-pip and Debian's pip wheel drive the pip side
pkgs+=(python3-venv python3-pip-whl)

missing=()
for p in "${pkgs[@]}"; do
	st=$(dpkg-query -W -f='${db:Status-Status}' "$p" 2>/dev/null || true)
	[[ $st == installed ]] || missing+=("$p")
done
if ((${#missing[@]})); then
	sudo=()
	((EUID == 0)) || sudo=(sudo)
	bench_log "apt-get install ${missing[*]}"
	export DEBIAN_FRONTEND=noninteractive
	if ! "${sudo[@]}" apt-get install -y -q --no-install-recommends "${missing[@]}"; then
		"${sudo[@]}" apt-get update -q
		"${sudo[@]}" apt-get install -y -q --no-install-recommends "${missing[@]}"
	fi
fi

bench_log "building wheels in $WFS_BENCH_WHEELS"
"$PY" "$WFS_BENCH_LIB_DIR/mkwheels.py" "${mk[@]}" -q "$@"
