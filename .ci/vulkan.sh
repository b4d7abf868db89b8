#!/usr/bin/env bash
# A Vulkan driver for onnxruntime-node's WebGPU execution provider (Dawn, Vulkan backend), so the
# WebGPU tests run on every CI run: the Vulkan loader and Mesa's software driver (lavapipe). Debian 12's
# Mesa 22.3 lavapipe is refused by Dawn (shaderUniform*ArrayDynamicIndexing), Mesa 25 from
# bookworm-backports is accepted. The backports source is derived from the machine's own Debian source
# (same mirror and keyring), so no host is named here. Idempotent; does nothing off Debian 12.
#   .ci/vulkan.sh                  install (as root)
#   .ci/vulkan.sh --print-source   print the backports source it would write, and stop
set -euo pipefail
export DEBIAN_FRONTEND=noninteractive
apt_etc=${APT_ETC:-/etc/apt}   # another root for --print-source checks
print_only=false
[ "${1:-}" = --print-source ] && print_only=true

. /etc/os-release
[ "${VERSION_CODENAME:-}" = bookworm ] || { echo "vulkan.sh: not Debian 12 (bookworm); skipped" >&2; exit 0; }

mesa_major() { dpkg-query -W -f='${Version}' mesa-vulkan-drivers 2>/dev/null | sed -E 's/^([0-9]+:)?([0-9]+).*/\2/'; }
have_loader() { dpkg-query -W -f='${Status}' libvulkan1 2>/dev/null | grep -q 'ok installed'; }
if ! $print_only && [ "$(mesa_major || true)" -ge 25 ] 2>/dev/null && have_loader; then
  exit 0
fi

list=$apt_etc/sources.list.d/ken-bookworm-backports.sources
if $print_only || ! grep -rqs 'bookworm-backports' "$apt_etc/sources.list" "$apt_etc/sources.list.d/"; then
  uri=""
  keyring=""
  # deb822 sources: the stanza whose Suites holds "bookworm"
  for f in "$apt_etc"/sources.list.d/*.sources; do
    [ -f "$f" ] || continue
    found=$(awk '
      BEGIN { RS = ""; FS = "\n" }
      {
        u = ""; s = ""; k = ""
        for (i = 1; i <= NF; i++) {
          if ($i ~ /^URIs:/) { u = $i; sub(/^URIs:[ \t]*/, "", u); split(u, a, /[ \t]+/); u = a[1] }
          if ($i ~ /^Suites:/) s = " " substr($i, 8) " "
          if ($i ~ /^Signed-By:/) { k = $i; sub(/^Signed-By:[ \t]*/, "", k) }
        }
        if (u != "" && s ~ /[ \t]bookworm[ \t]/) { print u "\t" k; exit }
      }' "$f")
    if [ -n "$found" ]; then
      uri=${found%%$'\t'*}
      keyring=${found#*$'\t'}
      break
    fi
  done
  # one-line sources: "deb [options] URI bookworm components"
  if [ -z "$uri" ] && [ -f "$apt_etc/sources.list" ]; then
    uri=$(awk '$1 == "deb" { i = 2; if ($2 ~ /^\[/) { while ($i !~ /\]$/) i++; i++ } if ($(i + 1) == "bookworm") { print $i; exit } }' "$apt_etc/sources.list")
  fi
  if [ -z "$uri" ]; then
    echo "vulkan.sh: no Debian bookworm source found in the apt configuration; cannot add bookworm-backports" >&2
    exit 1
  fi
  source_text() {
    echo "Types: deb"
    echo "URIs: $uri"
    echo "Suites: bookworm-backports"
    echo "Components: main"
    if [ -n "$keyring" ]; then echo "Signed-By: $keyring"; fi
  }
  if $print_only; then
    source_text
    exit 0
  fi
  source_text > "$list.tmp"
  mv "$list.tmp" "$list"
fi

apt-get update -qq
apt-get install -y -qq -t bookworm-backports mesa-vulkan-drivers libvulkan1 >/dev/null
