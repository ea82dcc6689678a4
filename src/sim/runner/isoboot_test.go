package runner

import (
	"bytes"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
)

func TestParseIsolinuxConfig_GivenTheDefaultLabel_ThenItsKernelInitrdAndCommandLine(t *testing.T) {
	cfg := "DEFAULT vic\nPROMPT 0\nLABEL rescue\n  KERNEL /other\n  APPEND single\nLABEL vic\n  KERNEL /boot/vmlinuz\n  INITRD /boot/initrd.img\n  APPEND console=ttyS0 quiet\n"
	kernel, initrd, appendLine, err := parseIsolinuxConfig(cfg)
	if err != nil || kernel != "/boot/vmlinuz" || initrd != "/boot/initrd.img" || appendLine != "console=ttyS0 quiet" {
		t.Errorf("got %q %q %q %v", kernel, initrd, appendLine, err)
	}
	kernel, initrd, appendLine, err = parseIsolinuxConfig("LABEL x\nkernel /k\nappend initrd=/i.gz ro\n")
	if err != nil || kernel != "/k" || initrd != "/i.gz" || appendLine != "ro" {
		t.Errorf("initrd= in APPEND: got %q %q %q %v", kernel, initrd, appendLine, err)
	}
	if _, _, _, err := parseIsolinuxConfig("LABEL x\nKERNEL /k\n"); err == nil || !strings.Contains(err.Error(), "no initrd") {
		t.Errorf("no initrd: %v", err)
	}
}

// The project's bootstrap ISO (scripts/build-bootstrap-iso.sh): the kernel boot read from it is
// the kernel, initrd and command line its isolinux.cfg names, byte for byte, extracted once.
func TestBootCache_GivenTheBootstrapISO_ThenItsKernelBootIsExtractedOnce(t *testing.T) {
	_, here, _, _ := runtime.Caller(0)
	root := filepath.Join(filepath.Dir(here), "..", "..", "..")
	iso := filepath.Join(root, ".cache", "bootstrap", "bootstrap.iso")
	if dir := os.Getenv("VIC_CACHE"); dir != "" {
		iso = filepath.Join(dir, "bootstrap", "bootstrap.iso")
	}
	if _, err := os.Stat(iso); err != nil {
		t.Fatalf("this test reads the bootstrap ISO (bash scripts/peers/50-bootstrap-iso.sh builds it): %v", err)
	}
	versions, err := os.ReadFile(iso + ".versions")
	if err != nil {
		t.Fatal(err)
	}
	wantAppend := ""
	for _, line := range strings.Split(string(versions), "\n") {
		if v, ok := strings.CutPrefix(line, "cmdline "); ok {
			wantAppend = v
		}
	}
	c := newBootCache(t.TempDir())
	b, err := c.kernelBoot(iso)
	if err != nil {
		t.Fatal(err)
	}
	if b.Append != wantAppend || wantAppend == "" {
		t.Errorf("command line %q, want %q (the ISO's record)", b.Append, wantAppend)
	}
	// Debian's kernel unpacks (xz) to an ELF with a PVH entry, which QEMU enters directly.
	if b.NotUnpacked != "" || filepath.Base(b.Kernel) != "vmlinux" {
		t.Fatalf("the ISO's kernel was not unpacked: %q (%s)", b.NotUnpacked, b.Kernel)
	}
	vmlinux, _ := os.ReadFile(b.Kernel)
	if err := checkPVHEntry(vmlinux); err != nil {
		t.Error(err)
	}
	bzImage, _ := os.ReadFile(filepath.Join(filepath.Dir(b.Kernel), "kernel"))
	unpacked, err := unpackBzImage(bzImage)
	if err != nil || !bytes.Equal(unpacked, vmlinux) {
		t.Errorf("the vmlinux is not the bzImage's payload unpacked (%d against %d bytes): %v", len(vmlinux), len(unpacked), err)
	}
	initrd, _ := os.ReadFile(b.Initrd)
	// A bzImage says "HdrS" at 0x202; the initramfs is gzip.
	if len(bzImage) < 0x206 || string(bzImage[0x202:0x206]) != "HdrS" || len(initrd) < 2 || initrd[0] != 0x1f || initrd[1] != 0x8b {
		t.Errorf("kernel (%d bytes) or initrd (%d bytes) is not what the ISO holds", len(bzImage), len(initrd))
	}
	st, _ := os.Stat(b.Kernel)
	again, err := c.kernelBoot(iso)
	st2, _ := os.Stat(again.Kernel)
	if err != nil || again != b || !st.ModTime().Equal(st2.ModTime()) {
		t.Errorf("a second boot extracted again: %+v %v", again, err)
	}
}

func TestUnpackBzImage_GivenNoBzImageOrAForeignPayload_ThenItSaysWhy(t *testing.T) {
	if _, err := unpackBzImage([]byte("not a kernel")); err == nil || !strings.Contains(err.Error(), "not a bzImage") {
		t.Errorf("no bzImage: %v", err)
	}
	bz := make([]byte, 4096)
	copy(bz[0x202:], "HdrS")
	bz[0x206], bz[0x207] = 0x0f, 0x02 // protocol 2.15
	bz[0x1f1] = 1                     // payload offsets count from 1024
	bz[0x248], bz[0x24c] = 16, 8
	copy(bz[1024+16:], []byte{0x28, 0xb5, 0x2f, 0xfd, 1, 2, 3, 4}) // zstd
	if _, err := unpackBzImage(bz); err == nil || !strings.Contains(err.Error(), "28 b5 2f fd") {
		t.Errorf("zstd payload: %v", err)
	}
	if err := checkPVHEntry([]byte("\x7fELF")); err == nil {
		t.Error("a damaged ELF has no PVH entry")
	}
}
