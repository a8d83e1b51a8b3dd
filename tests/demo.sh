#!/usr/bin/env bash
# demo.sh [WHEELFS] — the README's demo: build a few wheels (plus the pip and
# setuptools wheels Debian ships, when present), add them to a fresh cache
# (twice, to show deduplication), install them into a new venv, mount its
# view, run Python and pip from it, pin it, and run it with the cache gone.
set -euo pipefail
top=$(cd "$(dirname "$0")/.." && pwd)
wheelfs=${1:-$top/build/tools/wheelfs}
demo=${WFS_DEMO_DIR:-$(mktemp -d /tmp/wheelfs-demo.XXXXXX)}
mk=$top/tests/integration/mkwheel.py
mkdir -p "$demo/wheels"

echo "== building demo wheels in $demo/wheels"
/usr/bin/python3 "$mk" --out "$demo/wheels" --name hello --version 1.0 \
	--file hello/__init__.py='def main():
    print("hello from a wheelfs cache")
' --entry-point console_scripts:hello=hello:main >/dev/null
/usr/bin/python3 "$mk" --out "$demo/wheels" --name hello --version 1.1 \
	--file hello/__init__.py='def main():
    print("hello again from a wheelfs cache")
' --entry-point console_scripts:hello=hello:main >/dev/null
hello11=$demo/wheels/hello-1.1-py3-none-any.whl
wheels=("$demo"/wheels/*.whl)
for w in /usr/share/python-wheels/pip-*.whl /usr/share/python-wheels/setuptools-*.whl; do
	[ -e "$w" ] && wheels+=("$w")
done

echo "== wheelfs add $demo/cache (${#wheels[@]} wheels)"
"$wheelfs" add "$demo/cache" "${wheels[@]}"
echo "== the same again: everything is deduplicated"
"$wheelfs" add "$demo/cache" "${wheels[@]}"
echo "== wheelfs ls $demo/cache"
"$wheelfs" ls "$demo/cache"
echo "== the cache: $(find "$demo/cache/blobs" -type f | wc -l) blobs, $(du -sh "$demo/cache" | cut -f1)"

venv=$demo/venv
echo "== a new venv, and wheelfs install of hello 1.1 (and pip)"
/usr/bin/python3 -m venv --without-pip "$venv"
pipwhl=$(ls /usr/share/python-wheels/pip-*.whl 2>/dev/null | head -n1 || true)
"$wheelfs" install --cache "$demo/cache" "$venv" "$hello11" ${pipwhl:+"$pipwhl"}
"$wheelfs" show "$venv"

echo "== wheelfs mount $demo/cache $venv/lib"
"$wheelfs" mount "$demo/cache" "$venv/lib"
trap '"$wheelfs" umount "$venv/lib" 2>/dev/null || true' EXIT
"$venv/bin/hello"
"$venv/bin/python" -c 'import hello, sys; print("imported", hello.__file__)'
[ -n "$pipwhl" ] && "$venv/bin/python" -m pip list 2>/dev/null

echo "== wheelfs pin $venv/lib: real files, so the cache may go"
"$wheelfs" pin "$venv/lib"
"$wheelfs" umount "$venv/lib"
trap - EXIT
mv "$demo/cache" "$demo/cache.away"
"$venv/bin/hello"
mv "$demo/cache.away" "$demo/cache"
echo "== done: $demo"
