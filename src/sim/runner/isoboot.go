package runner

import (
	"bufio"
	"bytes"
	"compress/gzip"
	"crypto/sha256"
	"debug/elf"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"time"
)

// The fast path of a boot: QEMU loads the kernel and initrd that the ISO's BIOS boot loader
// (isolinux) would load, with its command line, straight into memory (-kernel, -initrd,
// -append). Under TCG, most of a boot went to SeaBIOS and isolinux reading them from the emulated
// CD-ROM. The ISO stays attached as the VM's CD-ROM, and on ESXi the ISO itself boots: both
// paths start the same kernel with the same command line.
//
// Kernel is the uncompressed kernel (vmlinux) when the ISO's bzImage could be unpacked and has a
// PVH entry point, which QEMU enters directly: under TCG the bzImage's own decompressor (xz in
// Debian's kernel) is the costliest part of a boot, and the kernel it unpacks is the same.
// Otherwise Kernel is the bzImage itself.
type kernelBoot struct {
	Kernel, Initrd, Append string
	// NotUnpacked, when set, says why Kernel is the bzImage rather than its vmlinux.
	NotUnpacked string
}

// bootCache extracts each ISO's kernel boot once, under dir/<sha256 of the ISO>.
type bootCache struct {
	dir string

	mu      sync.Mutex
	digests map[string]isoDigest
	boots   map[string]kernelBoot
}

// isoDigest remembers the digest of an ISO file as long as its size and time are the same.
type isoDigest struct {
	size    int64
	modTime time.Time
	sha256  string
}

func newBootCache(dir string) *bootCache {
	return &bootCache{dir: dir, digests: map[string]isoDigest{}, boots: map[string]kernelBoot{}}
}

// kernelBoot returns the kernel boot of the ISO, extracting it at the first use of its content.
func (c *bootCache) kernelBoot(iso string) (kernelBoot, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	st, err := os.Stat(iso)
	if err != nil {
		return kernelBoot{}, err
	}
	d, ok := c.digests[iso]
	if !ok || d.size != st.Size() || !d.modTime.Equal(st.ModTime()) {
		sum, err := fileSHA256(iso)
		if err != nil {
			return kernelBoot{}, err
		}
		d = isoDigest{size: st.Size(), modTime: st.ModTime(), sha256: sum}
		c.digests[iso] = d
	}
	if b, ok := c.boots[d.sha256]; ok {
		return b, nil
	}
	b, err := extractKernelBoot(iso, filepath.Join(c.dir, d.sha256))
	if err != nil {
		return kernelBoot{}, err
	}
	c.boots[d.sha256] = b
	return b, nil
}

func fileSHA256(path string) (string, error) {
	f, err := os.Open(path)
	if err != nil {
		return "", err
	}
	defer f.Close()
	h := sha256.New()
	if _, err := io.Copy(h, f); err != nil {
		return "", err
	}
	return hex.EncodeToString(h.Sum(nil)), nil
}

// extractKernelBoot reads the ISO's isolinux.cfg and copies the kernel and initrd it names.
func extractKernelBoot(iso, dir string) (kernelBoot, error) {
	f, err := os.Open(iso)
	if err != nil {
		return kernelBoot{}, err
	}
	defer f.Close()
	fs, err := openISO9660(f)
	if err != nil {
		return kernelBoot{}, err
	}
	var cfg []byte
	for _, p := range []string{"/isolinux/isolinux.cfg", "/boot/isolinux/isolinux.cfg", "/syslinux.cfg"} {
		if cfg, err = fs.readFile(p); err == nil {
			break
		}
	}
	if err != nil {
		return kernelBoot{}, fmt.Errorf("no isolinux.cfg in the ISO: %v", err)
	}
	kernel, initrd, appendLine, err := parseIsolinuxConfig(string(cfg))
	if err != nil {
		return kernelBoot{}, err
	}
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return kernelBoot{}, err
	}
	b := kernelBoot{Kernel: filepath.Join(dir, "kernel"), Initrd: filepath.Join(dir, "initrd"), Append: appendLine}
	var bzImage []byte
	for _, x := range []struct{ from, to string }{{kernel, b.Kernel}, {initrd, b.Initrd}} {
		data, err := fs.readFile(x.from)
		if err != nil {
			return kernelBoot{}, fmt.Errorf("%s, which isolinux.cfg names: %v", x.from, err)
		}
		if x.to == b.Kernel {
			bzImage = data
		}
		if err := writeWhole(x.to, data); err != nil {
			return kernelBoot{}, err
		}
	}
	vmlinux, err := unpackBzImage(bzImage)
	if err == nil {
		err = checkPVHEntry(vmlinux)
	}
	if err != nil {
		b.NotUnpacked = err.Error()
		return b, nil
	}
	unpacked := filepath.Join(dir, "vmlinux")
	if err := writeWhole(unpacked, vmlinux); err != nil {
		return kernelBoot{}, err
	}
	b.Kernel = unpacked
	return b, nil
}

// writeWhole writes a file whole, then renames it into place: a reader never sees half a kernel.
func writeWhole(path string, data []byte) error {
	tmp := path + ".tmp"
	if err := os.WriteFile(tmp, data, 0o600); err != nil {
		return err
	}
	return os.Rename(tmp, path)
}

// unpackBzImage returns the kernel that a bzImage's decompressor would unpack: the payload that
// the setup header locates (boot protocol 2.08 and later), decompressed.
func unpackBzImage(bz []byte) ([]byte, error) {
	if len(bz) < 0x250 || string(bz[0x202:0x206]) != "HdrS" {
		return nil, errors.New("the kernel is not a bzImage")
	}
	if v := binary.LittleEndian.Uint16(bz[0x206:]); v < 0x208 {
		return nil, fmt.Errorf("the bzImage's boot protocol %d.%02d does not locate its payload", v>>8, v&0xff)
	}
	setupSects := int(bz[0x1f1])
	if setupSects == 0 {
		setupSects = 4
	}
	start := (setupSects+1)*512 + int(binary.LittleEndian.Uint32(bz[0x248:]))
	end := start + int(binary.LittleEndian.Uint32(bz[0x24c:]))
	if start >= end || end > len(bz) {
		return nil, errors.New("the bzImage's payload lies outside the file")
	}
	payload := bz[start:end]
	switch {
	case bytes.HasPrefix(payload, []byte("\x7fELF")):
		return payload, nil
	case bytes.HasPrefix(payload, []byte{0x1f, 0x8b}):
		z, err := gzip.NewReader(bytes.NewReader(payload))
		if err != nil {
			return nil, fmt.Errorf("the bzImage's gzip payload: %v", err)
		}
		z.Multistream(false)
		return io.ReadAll(z)
	case bytes.HasPrefix(payload, []byte{0xfd, '7', 'z', 'X', 'Z', 0}):
		// The kernel's xz stream uses the x86 BCJ filter, which needs the xz tool itself.
		// --single-stream: the payload ends with the unpacked size, which is not xz.
		xz, err := exec.LookPath("xz")
		if err != nil {
			return nil, errors.New("the bzImage's payload is xz and the xz tool is not on PATH (apt-get install xz-utils)")
		}
		cmd := exec.Command(xz, "--decompress", "--single-stream", "--stdout")
		cmd.Stdin = bytes.NewReader(payload)
		var stderr bytes.Buffer
		cmd.Stderr = &stderr
		out, err := cmd.Output()
		if err != nil {
			return nil, fmt.Errorf("xz could not unpack the bzImage's payload: %v %s", err, strings.TrimSpace(stderr.String()))
		}
		return out, nil
	}
	return nil, fmt.Errorf("the bzImage's payload is compressed in a format the runner does not unpack (starts % x)", payload[:min(len(payload), 6)])
}

// checkPVHEntry requires the ELF note by which a kernel built with CONFIG_PVH gives its 32-bit
// entry point (XEN_ELFNOTE_PHYS32_ENTRY): QEMU boots an ELF kernel through it and through nothing else.
func checkPVHEntry(vmlinux []byte) error {
	f, err := elf.NewFile(bytes.NewReader(vmlinux))
	if err != nil {
		return fmt.Errorf("the bzImage's payload is not an ELF kernel: %v", err)
	}
	const phys32Entry = 18
	for _, p := range f.Progs {
		if p.Type != elf.PT_NOTE {
			continue
		}
		notes, err := io.ReadAll(p.Open())
		if err != nil {
			return err
		}
		for len(notes) >= 12 {
			nameSize := int(binary.LittleEndian.Uint32(notes[0:]))
			descSize := int(binary.LittleEndian.Uint32(notes[4:]))
			typ := binary.LittleEndian.Uint32(notes[8:])
			nameEnd := 12 + (nameSize+3)&^3
			next := nameEnd + (descSize+3)&^3
			if next > len(notes) || 12+nameSize > len(notes) {
				break
			}
			if typ == phys32Entry && strings.TrimRight(string(notes[12:12+nameSize]), "\x00") == "Xen" {
				return nil
			}
			notes = notes[next:]
		}
	}
	return errors.New("the kernel has no PVH entry point (CONFIG_PVH)")
}

// parseIsolinuxConfig finds the default label's KERNEL, INITRD and APPEND (an "initrd=" in
// APPEND counts as INITRD, as isolinux reads it).
func parseIsolinuxConfig(text string) (kernel, initrd, appendLine string, err error) {
	type label struct{ kernel, initrd, appendLine string }
	labels := map[string]*label{}
	var order []string
	var current *label
	def := ""
	scanner := bufio.NewScanner(strings.NewReader(text))
	for scanner.Scan() {
		keyword, rest, _ := strings.Cut(strings.TrimSpace(scanner.Text()), " ")
		rest = strings.TrimSpace(rest)
		switch strings.ToUpper(keyword) {
		case "DEFAULT":
			def = rest
		case "LABEL":
			current = &label{}
			labels[rest] = current
			order = append(order, rest)
		case "KERNEL", "LINUX":
			if current != nil {
				current.kernel = rest
			}
		case "INITRD":
			if current != nil {
				current.initrd = rest
			}
		case "APPEND":
			if current != nil {
				current.appendLine = rest
			}
		}
	}
	chosen := labels[def]
	if chosen == nil && len(order) > 0 {
		chosen = labels[order[0]]
	}
	if chosen == nil || chosen.kernel == "" {
		return "", "", "", errors.New("isolinux.cfg names no kernel")
	}
	var kept []string
	for _, word := range strings.Fields(chosen.appendLine) {
		if v, ok := strings.CutPrefix(word, "initrd="); ok {
			chosen.initrd = v
			continue
		}
		kept = append(kept, word)
	}
	if chosen.initrd == "" {
		return "", "", "", errors.New("isolinux.cfg names no initrd")
	}
	return chosen.kernel, chosen.initrd, strings.Join(kept, " "), nil
}

// iso9660 reads files from an ISO 9660 image by their primary names (case and ";1" ignored), the
// names isolinux itself uses.
type iso9660 struct {
	r    io.ReaderAt
	root dirRecord
}

type dirRecord struct {
	lba, size uint32
	dir       bool
	name      string
}

const sectorSize = 2048

func openISO9660(r io.ReaderAt) (*iso9660, error) {
	pvd := make([]byte, sectorSize)
	if _, err := r.ReadAt(pvd, 16*sectorSize); err != nil {
		return nil, fmt.Errorf("not an ISO 9660 image: %v", err)
	}
	if pvd[0] != 1 || string(pvd[1:6]) != "CD001" {
		return nil, errors.New("not an ISO 9660 image (no primary volume descriptor)")
	}
	root, ok := parseDirRecord(pvd[156 : 156+34])
	if !ok {
		return nil, errors.New("the ISO's root directory record is damaged")
	}
	return &iso9660{r: r, root: root}, nil
}

func parseDirRecord(b []byte) (dirRecord, bool) {
	if len(b) < 34 || int(b[0]) > len(b) || b[0] < 34 {
		return dirRecord{}, false
	}
	n := int(b[32])
	if 33+n > int(b[0]) {
		return dirRecord{}, false
	}
	name := strings.ToLower(string(b[33 : 33+n]))
	name, _, _ = strings.Cut(name, ";")
	name = strings.TrimSuffix(name, ".")
	return dirRecord{lba: binary.LittleEndian.Uint32(b[2:6]), size: binary.LittleEndian.Uint32(b[10:14]), dir: b[25]&2 != 0, name: name}, true
}

func (fs *iso9660) lookup(path string) (dirRecord, error) {
	current := fs.root
	for _, part := range strings.Split(strings.Trim(path, "/"), "/") {
		if !current.dir {
			return dirRecord{}, fmt.Errorf("%s: not a directory on the way", path)
		}
		entries, err := fs.readDir(current)
		if err != nil {
			return dirRecord{}, err
		}
		found := false
		for _, e := range entries {
			if e.name == strings.ToLower(part) {
				current, found = e, true
				break
			}
		}
		if !found {
			return dirRecord{}, fmt.Errorf("%s: not in the ISO", path)
		}
	}
	return current, nil
}

func (fs *iso9660) readDir(d dirRecord) ([]dirRecord, error) {
	data := make([]byte, d.size)
	if _, err := fs.r.ReadAt(data, int64(d.lba)*sectorSize); err != nil {
		return nil, err
	}
	var out []dirRecord
	for off := 0; off < len(data); {
		length := int(data[off])
		if length == 0 {
			// Records do not cross sectors: the rest of this one is padding.
			off = (off/sectorSize + 1) * sectorSize
			continue
		}
		if off+length > len(data) {
			break
		}
		if r, ok := parseDirRecord(data[off : off+length]); ok && r.name != "\x00" && r.name != "\x01" {
			out = append(out, r)
		}
		off += length
	}
	return out, nil
}

func (fs *iso9660) readFile(path string) ([]byte, error) {
	r, err := fs.lookup(path)
	if err != nil {
		return nil, err
	}
	if r.dir {
		return nil, fmt.Errorf("%s is a directory", path)
	}
	data := make([]byte, r.size)
	if _, err := fs.r.ReadAt(data, int64(r.lba)*sectorSize); err != nil {
		return nil, err
	}
	return data, nil
}
