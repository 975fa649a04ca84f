#!/usr/bin/env bash
# Idempotent setup of the kernel back-end (issue #10): QEMU and busybox from apt, the Debian 7.2.13 kernel and
# its modules from suite sid through a private apt state (the system's apt state is never changed), the static
# guest agent and the initramfs. Every artefact lands in the cache folder; a step whose output exists is skipped.
# Usage: scripts/kernel-setup.sh [--kernel 7.2|6.1] [CACHE_DIR]
#   7.2 (default): Debian's 7.2.13 from sid, cache $KERNEL_CACHE or <repo>/.kernel-cache
#   6.1: the machine's own bookworm 6.1 (image with modules), cache <repo>/.kernel-cache-6.1 (for era comparisons)
set -euo pipefail

repo=$(cd "$(dirname "$0")/.." && pwd)
era=7.2
if [ "${1:-}" = --kernel ]; then era=${2:-}; shift 2 || { echo "kernel-setup: --kernel needs 7.2 or 6.1" >&2; exit 64; }; fi
case $era in
  7.2) default_cache=${KERNEL_CACHE:-$repo/.kernel-cache}; suite=sid; kver=7.2.13+deb14-amd64
       packages=("linux-binary-$kver" "linux-modules-$kver");;
  6.1) default_cache=$repo/.kernel-cache-6.1; suite=bookworm; kver=""; packages=();;
  *) echo "kernel-setup: unknown kernel '$era' (7.2 or 6.1)" >&2; exit 64;;
esac
cache=${1:-$default_cache}
# The modules the guest needs; their dependencies are added from each module's own `depends=`. Optional ones may be
# built in (virtio_pci is, in 7.2).
wanted=(vfio vfio_iommu_type1 vfio_pci vfio_pci_core e1000e e1000 virtio_net)
optional=(virtio_pci)

die() { echo "kernel-setup: $*" >&2; exit 1; }
step() { echo "kernel-setup: $*"; }
mkdir -p "$cache" || die "cannot create the cache folder $cache"
cache=$(cd "$cache" && pwd)

# 1. Host tools. Only apt-get is used; nothing is installed when everything is present.
missing=()
command -v qemu-system-x86_64 >/dev/null || missing+=(qemu-system-x86)
# (the applet list is read whole: grep -q closing the pipe early would fail the pipeline under pipefail)
applets=$( [ -x /bin/busybox ] && /bin/busybox --list 2>/dev/null || true)
grep -qx cpio <<<"$applets" || missing+=(busybox-static)
command -v gcc >/dev/null || missing+=(gcc libc6-dev)
if [ ${#missing[@]} -gt 0 ]; then
  [ "$(id -u)" = 0 ] || die "need root to install ${missing[*]} with apt-get"
  step "installing ${missing[*]}"
  apt-get update -qq || die "apt-get update failed"
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null \
    || die "apt-get install ${missing[*]} failed"
fi
bb=/bin/busybox
[ -e /usr/lib/x86_64-linux-gnu/libc.a ] || die "static libc missing (libc6-dev): cannot build the static agent"

# 2. The kernel packages, through a private apt state whose only source is the machine's Debian archive, suite sid.
apt_dir=$cache/apt
debs=$cache/debs
if ! ls "$debs"/linux-*.deb >/dev/null 2>&1; then
  uri=""
  for f in /etc/apt/sources.list.d/*.sources; do
    [ -e "$f" ] || continue
    # The first URI of a stanza whose suites are not a security suite: that is the main archive.
    uri=$(awk 'BEGIN{RS=""; FS="\n"} {u=""; s=""; for(i=1;i<=NF;i++){ if($i ~ /^URIs:/){sub(/^URIs:[ \t]*/,"",$i); split($i,a,/[ \t]+/); u=a[1]} if($i ~ /^Suites:/) s=$i } if(u!="" && s !~ /security/){print u; exit}}' "$f")
    [ -n "$uri" ] && break
  done
  [ -n "$uri" ] || die "no Debian archive URI found in /etc/apt/sources.list.d/*.sources"
  mkdir -p "$apt_dir"/lists/partial "$apt_dir"/cache/archives/partial "$apt_dir"/parts "$debs"
  echo "deb [signed-by=/usr/share/keyrings/debian-archive-keyring.gpg] $uri $suite main" > "$apt_dir/sources.list"
  : > "$apt_dir/status"
  apt_opts=(-o Dir::Etc::sourcelist="$apt_dir/sources.list" -o Dir::Etc::sourceparts="$apt_dir/parts"
            -o Dir::State::Lists="$apt_dir/lists" -o Dir::Cache="$apt_dir/cache" -o Dir::State::status="$apt_dir/status"
            -o Acquire::Languages=none -o APT::Get::List-Cleanup=0)
  step "reading the $suite package lists (private apt state in $apt_dir)"
  apt-get "${apt_opts[@]}" update -qq || die "apt-get update of suite $suite failed (private state $apt_dir)"
  if [ "$era" = 6.1 ]; then
    # The newest 6.1 ABI in the lists, by its exact package name (a glob would fetch every flavour).
    p=$(apt-cache "${apt_opts[@]}" pkgnames linux-image-6.1.0- | grep -E '^linux-image-6\.1\.0-[0-9]+-amd64$' | sort -V | tail -1 || true)
    [ -n "$p" ] || die "no linux-image-6.1.0-N-amd64 in suite $suite of $uri"
    packages=("$p")
  fi
  for p in "${packages[@]}"; do
    apt-cache "${apt_opts[@]}" show "$p" >/dev/null 2>&1 || die "package $p is not in suite $suite of $uri"
  done
  step "downloading ${packages[*]}"
  (cd "$debs" && apt-get "${apt_opts[@]}" download -qq "${packages[@]}") || die "apt-get download ${packages[*]} failed"
fi

# 3. vmlinuz and the modules with their dependencies.
root=$cache/root
if [ ! -e "$cache/vmlinuz" ] || [ ! -d "$root/lib/modules" ]; then
  step "extracting the packages"
  rm -rf "$root" && mkdir -p "$root"
  for d in "$debs"/*.deb; do dpkg-deb -x "$d" "$root" || die "dpkg-deb -x $d failed"; done
  img=$(ls "$root"/boot/vmlinuz-* "$root"/usr/lib/modules/*/vmlinuz 2>/dev/null | head -1 || true)
  [ -n "$img" ] || die "no vmlinuz in the kernel packages"
  cp "$img" "$cache/vmlinuz"
  if [ ! -d "$root/lib/modules" ] && [ -d "$root/usr/lib/modules" ]; then
    mkdir -p "$root/lib" && ln -s ../usr/lib/modules "$root/lib/modules"
  fi
fi
if [ -z "$kver" ]; then kver=$(ls "$root/lib/modules" 2>/dev/null | head -1 || true); fi
[ -n "$kver" ] || die "no modules folder in the kernel package"
moddir=$root/lib/modules/$kver

# 4. The agent: static, small.
agent=$cache/agent
if [ ! -e "$agent" ] || [ "$repo/kernel/agent.c" -nt "$agent" ]; then
  step "building the agent"
  gcc -static -Os -Wall -Wextra -Werror -Wno-format-truncation -o "$agent" "$repo/kernel/agent.c" || die "gcc failed on kernel/agent.c"
fi

# 5. The initramfs: busybox as the shell of /init, the modules decompressed, the agent.
initrd=$cache/initrd.cpio.gz
if [ ! -e "$initrd" ] || [ "$agent" -nt "$initrd" ] || [ "$repo/kernel/init.sh" -nt "$initrd" ]; then
  step "building the initramfs"
  tree=$cache/initramfs
  rm -rf "$tree" && mkdir -p "$tree"/{bin,dev,proc,sys,lib/modules/$kver}
  cp "$bb" "$tree/bin/busybox"
  for a in sh mount modprobe insmod depmod mkdir cat echo ls poweroff sleep; do ln -sf busybox "$tree/bin/$a"; done
  cp "$agent" "$tree/bin/agent"
  cp "$repo/kernel/init.sh" "$tree/init" && chmod +x "$tree/init"
  # Resolve dependencies from each module's depends= field (read with busybox modinfo).
  declare -A seen=()
  queue=("${wanted[@]}")
  for m in "${optional[@]}"; do
    find "$moddir/kernel" -name "$m.ko*" | grep -q . && queue+=("$m")
  done
  while [ ${#queue[@]} -gt 0 ]; do
    m=${queue[0]}; queue=("${queue[@]:1}")
    [ -n "${seen[$m]:-}" ] && continue
    # shellcheck disable=SC2086
    f=$(find "$moddir/kernel" -name "$m.ko*" -o -name "${m//_/-}.ko*" | head -1)
    [ -n "$f" ] || die "module $m is not in linux-modules-$kver"
    seen[$m]=$f
    rel=${f#"$moddir"/}; out="$tree/lib/modules/$kver/${rel%.xz}"; out=${out%.zst}
    mkdir -p "$(dirname "$out")"
    case $f in *.xz) xz -dc "$f" > "$out";; *.zst) zstd -qdc "$f" > "$out";; *) cp "$f" "$out";; esac
    # The depends= string of the module's .modinfo section (busybox modinfo cannot print one field).
    deps=$(tr '\0' '\n' < "$out" | grep -a '^depends=' | head -1 || true); deps=${deps#depends=}
    for d in ${deps//,/ }; do queue+=("${d//-/_}"); done
  done
  (cd "$tree" && $bb depmod -b . "$kver") || die "busybox depmod failed"
  printf '%s\n' "${!seen[@]}" | sort > "$cache/modules.txt"
  (cd "$tree" && find . | $bb cpio -o -H newc 2>/dev/null | gzip -1 > "$initrd.tmp") || die "cpio failed"
  mv "$initrd.tmp" "$initrd"
fi

echo "$kver" > "$cache/kernel-release"
step "ready: $cache/vmlinuz $initrd ($(wc -l < "$cache/modules.txt") modules)"
