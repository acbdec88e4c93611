#!/usr/bin/env bash
# Builds a cross sysroot from Debian's own packages: downloads the arm64/armhf builds of Ordinal's
# dependencies (plus the C/C++ runtime libraries qemu needs to run the tests) and unpacks them with
# `dpkg -x`. Multiarch `apt-get install pkg:arm64` cannot be used: libcpuinfo-dev is not co-installable
# with its amd64 build.
#
# apt runs with a private state directory and APT::Architecture set to the target, so nothing on the
# host changes: no `dpkg --add-architecture`, no foreign package lists in /var/lib/apt, no root needed
# (root works too: that is how CI and a bare Debian 12 machine run it). Needs the host's apt sources
# to serve the target architecture (deb.debian.org does).
#
# usage: toolchains/make-sysroot.sh arm64|armhf DIR   (idempotent: a complete DIR is reused)
set -euo pipefail

arch=${1:-}
dest=${2:-}
case "$arch" in
  arm64) triple=aarch64-linux-gnu ;;
  armhf) triple=arm-linux-gnueabihf ;;
  *) echo "usage: $0 arm64|armhf DIR" >&2; exit 2 ;;
esac
[[ -n "$dest" ]] || { echo "usage: $0 arm64|armhf DIR" >&2; exit 2; }

PACKAGES=(
  libcpuinfo-dev libcpuinfo0          # CPU detection (the runtime's only linked dependency)
  libflatbuffers-dev                  # headers only: the runtime uses the header-only verifier
  doctest-dev nlohmann-json3-dev      # architecture-independent headers for tests and host tools
  libc6 libgcc-s1 libstdc++6          # what the cross-built binaries load at run time under qemu
)

stamp="$dest/.ordinal-sysroot"
want="$arch ${PACKAGES[*]}"
if [[ -f "$stamp" && "$(cat "$stamp")" == "$want" ]]; then
  echo "sysroot: $dest is up to date ($arch)"
  exit 0
fi

mkdir -p "$dest"
dest=$(cd "$dest" && pwd)
apt_dir="$dest.apt"  # beside the sysroot, not in it
rm -rf "$apt_dir" "$dest"
mkdir -p "$apt_dir/state/lists/partial" "$apt_dir/cache/archives/partial" "$apt_dir/debs" "$dest"
: > "$apt_dir/status"
APT_OPTS=(
  -q -o "Dir::State=$apt_dir/state" -o "Dir::State::status=$apt_dir/status" -o "Dir::Cache=$apt_dir/cache"
  -o "APT::Architecture=$arch" -o "APT::Architectures::=$arch" -o Debug::NoLocking=1
)
# As root apt drops to the _apt user to download, which cannot write into a private directory.
[[ $(id -u) -eq 0 ]] && APT_OPTS+=(-o APT::Sandbox::User=root)

echo "sysroot: downloading ${#PACKAGES[@]} $arch packages from the host's apt sources"
# A mirror mid-sync can fail one index: retry, then go on with what arrived (download names what is missing).
for try in 1 2 3; do
  apt-get "${APT_OPTS[@]}" -o Acquire::Retries=3 update > "$apt_dir/update.log" 2>&1 && break
  echo "sysroot: apt-get update failed (try $try of 3)" >&2
  [[ $try -lt 3 ]] && sleep $((5 * try))
done
grep -q '^E:' "$apt_dir/update.log" && { echo "sysroot: going on with the indexes that arrived:" >&2; grep '^E:' "$apt_dir/update.log" >&2; }
(cd "$apt_dir/debs" && apt-get "${APT_OPTS[@]}" download "${PACKAGES[@]}") > "$apt_dir/download.log" 2>&1 ||
  { cat "$apt_dir/download.log" >&2; exit 1; }
for deb in "$apt_dir"/debs/*.deb; do
  dpkg -x "$deb" "$dest"
done

# Sanity: what the toolchain file and qemu -L will look for.
for f in usr/include/cpuinfo.h usr/include/flatbuffers/flatbuffers.h "usr/lib/$triple/libcpuinfo.so"; do
  [[ -e "$dest/$f" ]] || { echo "sysroot: $f missing after unpacking" >&2; exit 1; }
done
(cd "$apt_dir/debs" && ls) > "$dest/.ordinal-packages"
echo "$want" > "$stamp"
echo "sysroot: $dest ($(du -sh "$dest" | cut -f1))"
