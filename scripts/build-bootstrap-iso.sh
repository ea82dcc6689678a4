#!/usr/bin/env bash
# Builds bootstrap.iso, the CD-ROM every container VM boots: Debian's kernel with the few modules a
# container VM needs, an initramfs whose /init is our tether (guest/tether) plus a static busybox,
# and boot loaders for BIOS (isolinux) and EFI (GRUB), on one hybrid ISO.
#
# Reproducible: everything boot-time comes from Debian package files (apt-get download +
# dpkg-deb -x, never the host's /boot), file times are SOURCE_DATE_EPOCH, the cpio is sorted and
# the FAT and ISO images are made with invariant ids, so two builds of the same inputs are
# byte-identical (test/boot/bootstrap-iso.test.ts checks it).
#
# usage: scripts/build-bootstrap-iso.sh [OUTPUT.iso]     (default .cache/bootstrap/bootstrap.iso)
# env:   SOURCE_DATE_EPOCH  file and volume times (default: a fixed date, so unchanged inputs give
#                           an unchanged ISO and the VCH's content-addressed upload is skipped)
#        BOOTSTRAP_DEBS     where downloaded .deb files are kept (default .cache/bootstrap/debs)
set -euo pipefail
export TZ=UTC LC_ALL=C
source "$(dirname "$0")/lib.sh"

out="$(realpath -m "${1:-$VIC_CACHE/bootstrap/bootstrap.iso}")"
export SOURCE_DATE_EPOCH="${SOURCE_DATE_EPOCH:-1704067200}"
debs="${BOOTSTRAP_DEBS:-$VIC_CACHE/bootstrap/debs}"
# Kernel modules the container VM loads at boot (their dependencies are added): ESXi's PVSCSI and
# VMXNET3, QEMU's virtio and IDE/SATA, the root filesystem, the ISO itself, and fw_cfg for the
# QEMU config channel.
# The first set loads at every boot; the on-demand set (IDE/SATA, CD-ROM) only when the root disk
# is not found on the first set's controllers, because probing the IDE bus costs about half a
# second and the CD is not needed once the kernel runs.
modules=(vmw_pvscsi vmxnet3 virtio_pci virtio_blk virtio_scsi virtio_net sd_mod ext4 qemu_fw_cfg)
on_demand_modules=(ata_piix ahci sr_mod isofs)
cmdline="console=tty0 console=ttyS0,115200n8 quiet loglevel=3 panic=5"

for tool in go apt-get dpkg-deb depmod modprobe cpio gzip fakeroot grub-mkimage mkfs.vfat mmd mcopy xorriso; do
  command -v "$tool" >/dev/null || die "$tool is missing: run 'npm run setup' (or apt-get install -y kmod cpio fakeroot grub-common dosfstools mtools xorriso)"
done

mkdir -p "$debs" "$(dirname "$out")"
work="$(mktemp -d "$(dirname "$out")/.build-iso.XXXXXX")"
trap 'rm -rf "$work"' EXIT

# Downloads the candidate version of a Debian package into $debs (once) and extracts it; prints the
# extraction directory. An already downloaded file is reused when the archive is unreachable.
fetch_deb() {
  local pkg="$1" version file
  version="$(apt-cache policy "$pkg" | awk '/Candidate:/ {print $2}')"
  [ -n "$version" ] && [ "$version" != "(none)" ] || die "Debian package $pkg has no candidate version: run 'apt-get update'"
  file="$(ls "$debs/${pkg}_${version//:/%3a}_"*.deb 2>/dev/null | head -n1 || true)"
  if [ -z "$file" ]; then
    (cd "$debs" && apt-get download -q "$pkg" >/dev/null 2>&1) || die "apt-get download $pkg failed (network or apt sources?)"
    file="$(ls "$debs/${pkg}_${version//:/%3a}_"*.deb | head -n1)"
  fi
  mkdir -p "$work/pkg/$pkg"
  dpkg-deb -x "$file" "$work/pkg/$pkg"
  echo "$pkg $version" >>"$work/versions"
  printf '%s\n' "$work/pkg/$pkg"
}

resolve_kernel_package() {
  apt-cache depends linux-image-amd64 2>/dev/null | awk '/Depends: linux-image-[0-9]/ {print $2; exit}'
}
kernel_pkg="$(resolve_kernel_package)"
if [ -z "$kernel_pkg" ]; then
  # A fresh machine (or a slimmed container image) may have no package lists yet.
  log "bootstrap ISO: no apt package lists; running apt-get update"
  as_root apt-get update -qq
  kernel_pkg="$(resolve_kernel_package)"
fi
[ -n "$kernel_pkg" ] || die "cannot resolve linux-image-amd64 to a kernel package: check the apt sources, then run 'apt-get update'"
log "bootstrap ISO: fetching $kernel_pkg, busybox-static, isolinux, syslinux-common, grub-efi-amd64-bin"
kernel_root="$(fetch_deb "$kernel_pkg")"
busybox_root="$(fetch_deb busybox-static)"
isolinux_root="$(fetch_deb isolinux)"
syslinux_root="$(fetch_deb syslinux-common)"
grub_root="$(fetch_deb grub-efi-amd64-bin)"
kver="$(ls "$kernel_root/lib/modules")"

# --- the tether: static, no build ids or paths, so the binary is a function of the source ---
log "bootstrap ISO: building the tether"
(cd "$VIC_ROOT/guest/tether" && CGO_ENABLED=0 GOOS=linux GOARCH=amd64 \
  go build -trimpath -buildvcs=false -ldflags='-s -w -buildid=' -o "$work/tether" .)

# --- initramfs ---
initrd="$work/initramfs"
mkdir -p "$initrd"/{bin,dev,proc,sys,newroot,lib/modules}
install -m 0755 "$work/tether" "$initrd/init"
install -m 0755 "$busybox_root/bin/busybox" "$initrd/bin/busybox"
ln -s busybox "$initrd/bin/sh"

# modules.dep is made by depmod at package install time, so make it here for the extracted tree;
# an empty config dir keeps the host's /etc/modprobe.d out of the result.
depmod -b "$kernel_root" "$kver"
mkdir -p "$work/empty-modprobe.d"
# Writes the modules and their dependencies, dependencies first, to a list in the initramfs, and
# copies the .ko files; a module already in an earlier list is not repeated.
write_module_list() {
  local list="$1"; shift
  : >"$initrd/lib/modules/$list"
  for m in "$@"; do
    modprobe -C "$work/empty-modprobe.d" -d "$kernel_root" -S "$kver" --show-depends "$m" \
      || die "kernel $kver has no module $m"
  done | awk '$1 == "insmod" {print $2}' | awk '!seen[$0]++' | while read -r ko; do
    name="$(basename "$ko")"
    [ -e "$initrd/lib/modules/$name" ] && continue
    install -m 0644 "$ko" "$initrd/lib/modules/$name"
    echo "$name" >>"$initrd/lib/modules/$list"
  done
}
write_module_list load-order "${modules[@]}"
write_module_list load-on-demand "${on_demand_modules[@]}"

find "$initrd" -exec touch -h -d "@$SOURCE_DATE_EPOCH" {} +
# /dev/console must exist before /init runs, or the kernel starts init without stdout; fakeroot
# lets an unprivileged build record the device node in the archive.
fakeroot -- sh -c '
  set -e
  cd "$1"
  mknod -m 0600 dev/console c 5 1
  touch -h -d "@$SOURCE_DATE_EPOCH" dev/console dev
  find . -mindepth 1 | LC_ALL=C sort | cpio --quiet -o -H newc -R 0:0 --reproducible
' sh "$initrd" | gzip -9 -n >"$work/initrd.img"

# --- ISO tree ---
iso="$work/iso"
mkdir -p "$iso"/{boot/grub,isolinux,EFI/BOOT}
install -m 0644 "$kernel_root/boot/vmlinuz-$kver" "$iso/boot/vmlinuz"
install -m 0644 "$work/initrd.img" "$iso/boot/initrd.img"
tether_sha="$(sha256sum "$work/tether" | cut -d' ' -f1)"
{
  echo "vic-iac bootstrap ISO"
  echo "kernel $kver"
  echo "modules $(tr '\n' ' ' <"$initrd/lib/modules/load-order")"
  echo "modules-on-demand $(tr '\n' ' ' <"$initrd/lib/modules/load-on-demand")"
  echo "tether sha256:$tether_sha"
  echo "cmdline $cmdline"
  sort "$work/versions"
} >"$iso/vic-bootstrap"

install -m 0644 "$isolinux_root/usr/lib/ISOLINUX/isolinux.bin" "$iso/isolinux/isolinux.bin"
install -m 0644 "$syslinux_root/usr/lib/syslinux/modules/bios/ldlinux.c32" "$iso/isolinux/ldlinux.c32"
cat >"$iso/isolinux/isolinux.cfg" <<EOF
DEFAULT vic
PROMPT 0
TIMEOUT 0
LABEL vic
  KERNEL /boot/vmlinuz
  INITRD /boot/initrd.img
  APPEND $cmdline
EOF

# GRUB for EFI: one image with its config embedded, which finds the ISO by our marker file.
cat >"$work/grub-early.cfg" <<EOF
search --no-floppy --file --set=root /vic-bootstrap
linux /boot/vmlinuz $cmdline
initrd /boot/initrd.img
boot
EOF
grub-mkimage -d "$grub_root/usr/lib/grub/x86_64-efi" -O x86_64-efi -p /boot/grub \
  -c "$work/grub-early.cfg" -o "$iso/EFI/BOOT/BOOTX64.EFI" \
  search search_fs_file iso9660 linux boot normal efi_gop efi_uga all_video serial terminal echo
efi_kib=$(( ($(stat -c %s "$iso/EFI/BOOT/BOOTX64.EFI") / 1024) + 256 ))
efi_img="$iso/boot/grub/efiboot.img"
mkfs.vfat --invariant -i 56494342 -n VIC-EFI -C "$efi_img" "$efi_kib" >/dev/null
touch -d "@$SOURCE_DATE_EPOCH" "$iso/EFI/BOOT/BOOTX64.EFI"
# mcopy -m keeps that mtime (FAT stores local time: TZ=UTC above).
mmd -i "$efi_img" ::/EFI ::/EFI/BOOT
mcopy -m -i "$efi_img" "$iso/EFI/BOOT/BOOTX64.EFI" ::/EFI/BOOT/BOOTX64.EFI

find "$iso" -exec touch -h -d "@$SOURCE_DATE_EPOCH" {} +
xorriso -as mkisofs -quiet -iso-level 3 -volid VIC_BOOTSTRAP -rational-rock \
  -isohybrid-mbr "$isolinux_root/usr/lib/ISOLINUX/isohdpfx.bin" \
  -eltorito-boot isolinux/isolinux.bin -eltorito-catalog isolinux/boot.cat \
  -no-emul-boot -boot-load-size 4 -boot-info-table \
  -eltorito-alt-boot -e boot/grub/efiboot.img -no-emul-boot -isohybrid-gpt-basdat \
  -o "$work/bootstrap.iso" "$iso" 2>"$work/xorriso.log" \
  || { cat "$work/xorriso.log" >&2; die "xorriso failed to write the ISO"; }

mv "$work/bootstrap.iso" "$out"
cp "$iso/vic-bootstrap" "$out.versions"
install -m 0755 "$work/tether" "$(dirname "$out")/tether"
log "bootstrap ISO: $out ($(stat -c %s "$out") bytes, sha256 $(sha256sum "$out" | cut -d' ' -f1))"
