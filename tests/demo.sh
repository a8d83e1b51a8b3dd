#!/usr/bin/env bash
# demo.sh [WHEELFS] — the README's demo: build a few wheels (plus the pip and
# setuptools wheels Debian ships, when present), add them to a fresh cache,
# add them again to show deduplication, and list the cache.
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
