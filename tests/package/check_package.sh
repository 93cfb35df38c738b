#!/usr/bin/env bash
# The Debian package as an administrator gets it: cpack builds it from this build directory,
# and then
#   - it holds the three binaries, both systemd units, the config examples and the copyright;
#   - its Depends come from the libraries the binaries link, and adduser;
#   - its postinst adds the system user the units run as;
#   - lintian finds no errors in it;
#   - systemd-analyze verifies the units against the package's own files (ExecStart exists).
#
#   tests/package/check_package.sh BUILD_DIR
set -euo pipefail
build="$(cd "$1" && pwd)"
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
fail() { echo "package: $*" >&2; exit 1; }

(cd "$build" && cpack -G DEB -B "$work/out" >"$work/cpack.log" 2>&1) ||
  { cat "$work/cpack.log" >&2; fail "cpack failed"; }
deb="$(ls "$work"/out/microwork_*.deb)"
contents="$(dpkg-deb -c "$deb")"
for f in usr/bin/mw-dispatcher usr/bin/mw-agent usr/bin/mw \
         usr/lib/systemd/system/mw-dispatcher.service usr/lib/systemd/system/mw-agent.service \
         usr/share/doc/microwork/examples/dispatcher.toml \
         usr/share/doc/microwork/examples/agent.toml usr/share/doc/microwork/copyright; do
  grep -q " \./$f\$" <<<"$contents" || fail "$(basename "$deb") lacks /$f"
done
depends="$(dpkg-deb -f "$deb" Depends)"
for lib in adduser librocksdb libgrpc++ libprotobuf libssl libjemalloc2; do
  grep -q "$lib" <<<"$depends" || fail "Depends lacks $lib: $depends"
done
dpkg-deb -e "$deb" "$work/control"
grep -q "adduser --system --group --home /var/lib/microwork" "$work/control/postinst" ||
  fail "postinst does not add the microwork user"

if command -v lintian >/dev/null; then
  lintian --fail-on error --suppress-tags-from-file /dev/null "$deb" >"$work/lintian.log" 2>&1 ||
    { cat "$work/lintian.log" >&2; fail "lintian found errors"; }
fi

dpkg-deb -x "$deb" "$work/root"
# The system's own units (targets the package's units are wanted by), beside the package's files.
cp -rn /usr/lib/systemd/system/. "$work/root/usr/lib/systemd/system/"
for unit in mw-dispatcher mw-agent; do
  systemd-analyze verify --root="$work/root" "/usr/lib/systemd/system/$unit.service" \
    >"$work/$unit.log" 2>&1 || { cat "$work/$unit.log" >&2; fail "systemd-analyze: $unit"; }
done
echo "package: $(basename "$deb") ($(wc -l <<<"$contents") entries): contents, Depends, postinst, lintian, units OK"
