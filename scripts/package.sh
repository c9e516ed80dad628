#!/usr/bin/env bash
# `make package`: a release tarball and a .deb of the viva server.
#
#   scripts/package.sh [--binary PATH] [--out DIR]
#
# --binary: package this already-built `viva` (default: build release first). --out: where the
# artifacts go (default: dist/). The .deb is assembled with dpkg-deb (Debian's own tool, present
# wherever a .deb can be installed) rather than cargo-deb, so packaging needs no extra build.
# Models are never packaged: they are provisioned on the target (see packaging/INSTALL.md).
set -euo pipefail
cd "$(dirname "$0")/.."

BINARY=""
OUT="dist"
while (($#)); do
  case "$1" in
    --binary) BINARY="$2"; shift 2 ;;
    --out) OUT="$2"; shift 2 ;;
    *) echo "package: unknown argument $1 (use --binary PATH, --out DIR)" >&2; exit 2 ;;
  esac
done

VERSION=$(sed -n '/^\[workspace.package\]/,/^\[/{s/^version *= *"\(.*\)"/\1/p}' Cargo.toml | head -1)
[[ -n "$VERSION" ]] || { echo "package: no version in Cargo.toml [workspace.package]" >&2; exit 1; }
ARCH=$(dpkg --print-architecture 2>/dev/null || uname -m)

if [[ -z "$BINARY" ]]; then
  cargo build --release --locked -p viva-server
  BINARY="${CARGO_TARGET_DIR:-target}/release/viva"
fi
[[ -x "$BINARY" ]] || { echo "package: $BINARY is not an executable" >&2; exit 1; }

mkdir -p "$OUT"
OUT=$(cd "$OUT" && pwd)
WORK=$(mktemp -d)
trap 'rm -rf "$WORK"' EXIT

# The tarball: binary (debug info stripped), example config, unit, install guide.
NAME="viva-$VERSION-linux-$ARCH"
T="$WORK/$NAME"
install -d "$T/bin" "$T/systemd"
install -m 0755 "$BINARY" "$T/bin/viva"
strip --strip-debug "$T/bin/viva"
install -m 0644 viva.example.toml README.md packaging/INSTALL.md "$T/"
install -m 0644 packaging/viva.service "$T/systemd/viva.service"
tar -C "$WORK" -czf "$OUT/$NAME.tar.gz" "$NAME"
echo "package: $OUT/$NAME.tar.gz"

# The .deb.
D="$WORK/deb"
install -d "$D/DEBIAN" "$D/usr/bin" "$D/lib/systemd/system" "$D/usr/share/doc/viva"
install -m 0755 "$T/bin/viva" "$D/usr/bin/viva"
install -m 0644 packaging/viva.service "$D/lib/systemd/system/viva.service"
install -m 0644 viva.example.toml README.md packaging/INSTALL.md "$D/usr/share/doc/viva/"
install -m 0755 packaging/deb/postinst packaging/deb/prerm packaging/deb/postrm "$D/DEBIAN/"
SIZE_KB=$(du -sk "$D" | cut -f1)
cat > "$D/DEBIAN/control" <<CONTROL
Package: viva
Version: $VERSION
Architecture: $ARCH
Maintainer: viva maintainers <viva@localhost>
Installed-Size: $SIZE_KB
Depends: libc6, libstdc++6, libgcc-s1, libopus0, libespeak-ng1, espeak-ng-data, adduser
Recommends: python3-pip
Section: net
Priority: optional
Homepage: https://localhost/viva
Description: self-hosted real-time voice interview server
 viva conducts first-round screening interviews by voice (browser, WebRTC or
 phone), transcribes them locally with Whisper and writes a scored report.
 Models are provisioned after install with: viva models fetch
CONTROL
DEB="$OUT/viva_${VERSION}_${ARCH}.deb"
dpkg-deb --root-owner-group -Zgzip --build "$D" "$DEB" >/dev/null
echo "package: $DEB"
