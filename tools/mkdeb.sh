#!/bin/sh
# mkdeb.sh OUTDIR - build the Debian package (debian/) with
# dpkg-buildpackage from a copy of the source in OUTDIR/src, so that the
# tree and its build/ stay as they are; the .deb and .changes land in
# OUTDIR.  Then lintian on the result, when it is installed.
set -eu
out=${1:?usage: mkdeb.sh OUTDIR}
top=$(cd "$(dirname "$0")/.." && pwd)
for t in dpkg-buildpackage dh; do
	command -v "$t" >/dev/null 2>&1 || {
		echo "mkdeb: $t missing; as root: sh tools/deps-build.sh debhelper" >&2
		exit 1
	}
done
mkdir -p "$out"
out=$(cd "$out" && pwd)
rm -rf "$out/src" "$out"/proxywrap_* "$out"/proxywrap-dbgsym_*
mkdir "$out/src"
# The files git knows (tracked or new, not ignored), else all but build/.
if git -C "$top" rev-parse --git-dir >/dev/null 2>&1; then
	git -C "$top" ls-files -z --cached --others --exclude-standard |
		(cd "$top" && xargs -0 cp --parents -t "$out/src")
else
	(cd "$top" && tar -cf - --exclude=./build --exclude="./${out#"$top"/}" .) |
		tar -xf - -C "$out/src"
fi
(cd "$out/src" && dpkg-buildpackage -us -uc -b)
rm -rf "$out/src"
ls "$out"/*.deb
if command -v lintian >/dev/null 2>&1; then
	lintian "$out"/proxywrap_*.changes
fi
