package runner

import (
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
	kernel, _ := os.ReadFile(b.Kernel)
	initrd, _ := os.ReadFile(b.Initrd)
	// A bzImage says "HdrS" at 0x202; the initramfs is gzip.
	if len(kernel) < 0x206 || string(kernel[0x202:0x206]) != "HdrS" || len(initrd) < 2 || initrd[0] != 0x1f || initrd[1] != 0x8b {
		t.Errorf("kernel (%d bytes) or initrd (%d bytes) is not what the ISO holds", len(kernel), len(initrd))
	}
	st, _ := os.Stat(b.Kernel)
	again, err := c.kernelBoot(iso)
	st2, _ := os.Stat(again.Kernel)
	if err != nil || again != b || !st.ModTime().Equal(st2.ModTime()) {
		t.Errorf("a second boot extracted again: %+v %v", again, err)
	}
}
