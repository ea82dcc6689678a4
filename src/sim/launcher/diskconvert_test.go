package main

import (
	"bytes"
	"encoding/binary"
	"errors"
	"math/rand"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
)

// writeTestSparse lays out a hosted sparse file by hand, independently of the TypeScript writer:
// header, embedded descriptor, one grain directory, its tables, then the grains given, stored in
// reverse order so that the file order differs from the disk order.
func writeTestSparse(t *testing.T, file string, capacity int64, grainSectors uint64, grains map[int64][]byte, descriptor string) {
	t.Helper()
	grainBytes := int64(grainSectors) * sectorSize
	total := (capacity + grainBytes - 1) / grainBytes
	const perTable = 512
	tables := (total + perTable - 1) / perTable
	descSectors := (int64(len(descriptor)) + sectorSize - 1) / sectorSize
	gdOffset := 1 + descSectors
	gdSectors := (tables*4 + sectorSize - 1) / sectorSize
	gtOffset := gdOffset + gdSectors
	overhead := gtOffset + tables*4
	overhead = (overhead + int64(grainSectors) - 1) / int64(grainSectors) * int64(grainSectors)

	var indexes []int64
	for i := range grains {
		indexes = append(indexes, i)
	}
	// descending: grains land in the file in the opposite order of the disk
	for i := 0; i < len(indexes); i++ {
		for j := i + 1; j < len(indexes); j++ {
			if indexes[j] > indexes[i] {
				indexes[i], indexes[j] = indexes[j], indexes[i]
			}
		}
	}
	size := (overhead + int64(len(indexes))*int64(grainSectors)) * sectorSize
	buf := make([]byte, size)
	h := sparseHeader{Magic: sparseMagic, Version: 1, Flags: 1, Capacity: uint64(capacity / sectorSize), GrainSize: grainSectors,
		DescriptorOffset: 1, DescriptorSize: uint64(descSectors), NumGTEsPerGT: perTable, GdOffset: uint64(gdOffset), OverHead: uint64(overhead),
		SingleEndLineChar: '\n', NonEndLineChar: ' ', DoubleEndLineChar1: '\r', DoubleEndLineChar2: '\n'}
	var hb bytes.Buffer
	if err := binary.Write(&hb, binary.LittleEndian, h); err != nil {
		t.Fatal(err)
	}
	copy(buf, hb.Bytes())
	copy(buf[sectorSize:], descriptor)
	for tbl := int64(0); tbl < tables; tbl++ {
		binary.LittleEndian.PutUint32(buf[gdOffset*sectorSize+tbl*4:], uint32(gtOffset+tbl*4))
	}
	for n, index := range indexes {
		sector := overhead + int64(n)*int64(grainSectors)
		binary.LittleEndian.PutUint32(buf[gtOffset*sectorSize+index*4:], uint32(sector))
		copy(buf[sector*sectorSize:], grains[index])
	}
	if err := os.WriteFile(file, buf, 0o644); err != nil {
		t.Fatal(err)
	}
}

const testDescriptor = "# Disk DescriptorFile\nversion=1\nencoding=\"UTF-8\"\nCID=0bc36cf5\nparentCID=ffffffff\ncreateType=\"monolithicSparse\"\n\n# Extent description\nRW 2056 SPARSE \"up-sparse.vmdk\"\n\n# The Disk Data Base\n#DDB\n\nddb.adapterType = \"lsilogic\"\nddb.virtualHWVersion = \"4\"\n"

func TestConvertSparseToFlatPutsEveryGrainInPlaceAndLeavesHoles(t *testing.T) {
	dir := t.TempDir()
	const grainSectors = 128
	const grainBytes = grainSectors * sectorSize
	// 16 full grains and a partial 17th (8 sectors): the last grain is cut at the capacity.
	capacity := int64(16*grainBytes + 8*sectorSize)
	rnd := rand.New(rand.NewSource(7))
	grain := func(n int) []byte {
		b := make([]byte, n)
		rnd.Read(b)
		return b
	}
	partial := append(grain(8*sectorSize), make([]byte, grainBytes-8*sectorSize)...)
	grains := map[int64][]byte{0: grain(grainBytes), 3: grain(grainBytes), 4: grain(grainBytes), 11: make([]byte, grainBytes), 16: partial}
	source := filepath.Join(dir, "up-sparse.vmdk")
	writeTestSparse(t, source, capacity, grainSectors, grains, testDescriptor)
	if !isHostedSparse(source) {
		t.Fatal("the test file is not recognised as hosted sparse")
	}

	dest := filepath.Join(dir, "img.vmdk")
	if err := convertSparseToFlat(source, dest, flatSpec{adapter: "lsilogic", thin: true}); err != nil {
		t.Fatal(err)
	}
	flat, err := os.ReadFile(filepath.Join(dir, "img-flat.vmdk"))
	if err != nil {
		t.Fatal(err)
	}
	want := make([]byte, capacity)
	for index, content := range grains {
		copy(want[index*grainBytes:], content[:min(int64(len(content)), capacity-index*grainBytes)])
	}
	if !bytes.Equal(flat, want) {
		t.Fatalf("the flat extent differs from the grains put in place (%d bytes, want %d)", len(flat), len(want))
	}
	var st syscall.Stat_t
	if err := syscall.Stat(filepath.Join(dir, "img-flat.vmdk"), &st); err != nil {
		t.Fatal(err)
	}
	// 4 grains of data (the zero one is not written): far below the 17 a dense file would take.
	if used := st.Blocks * 512; used > 8*grainBytes {
		t.Fatalf("the flat extent uses %d bytes on the host: absent grains were written instead of left as holes", used)
	}

	text, err := os.ReadFile(dest)
	if err != nil {
		t.Fatal(err)
	}
	for _, line := range []string{"CID=0bc36cf5\n", "createType=\"monolithicFlat\"\n", "RW 2056 FLAT \"img-flat.vmdk\" 0\n", "ddb.adapterType = \"lsilogic\"\n", "ddb.thinProvisioned = \"1\"\n"} {
		if !strings.Contains(string(text), line) {
			t.Errorf("descriptor lacks %q:\n%s", line, text)
		}
	}
	if strings.Contains(string(text), "SPARSE") || strings.Contains(string(text), "\x00") {
		t.Errorf("descriptor still carries the sparse extent or padding:\n%q", text)
	}
}

func TestConvertSparseToFlatNeverOverwritesAndCleansUpAfterABadSource(t *testing.T) {
	dir := t.TempDir()
	source := filepath.Join(dir, "s.vmdk")
	writeTestSparse(t, source, 4*65536, 128, map[int64][]byte{1: bytes.Repeat([]byte{1}, 65536)}, testDescriptor)

	dest := filepath.Join(dir, "d.vmdk")
	if err := os.WriteFile(dest, []byte("old"), 0o644); err != nil {
		t.Fatal(err)
	}
	var exists *existsError
	if err := convertSparseToFlat(source, dest, flatSpec{adapter: "lsilogic"}); !errors.As(err, &exists) {
		t.Fatalf("an existing destination gave %v, want existsError", err)
	}
	if b, _ := os.ReadFile(dest); string(b) != "old" {
		t.Fatal("the existing destination was touched")
	}

	// A grain table entry pointing past the end of the file: refused, and nothing is left behind.
	raw, _ := os.ReadFile(source)
	h, _ := readSparseHeader(bytes.NewReader(raw))
	gt := binary.LittleEndian.Uint32(raw[h.GdOffset*sectorSize:])
	binary.LittleEndian.PutUint32(raw[int64(gt)*sectorSize+4:], 1<<30)
	if err := os.WriteFile(source, raw, 0o644); err != nil {
		t.Fatal(err)
	}
	fresh := filepath.Join(dir, "e.vmdk")
	var invalid *invalidSourceError
	if err := convertSparseToFlat(source, fresh, flatSpec{adapter: "lsilogic"}); !errors.As(err, &invalid) {
		t.Fatalf("a corrupt grain table gave %v, want invalidSourceError", err)
	}
	for _, p := range []string{fresh, filepath.Join(dir, "e-flat.vmdk")} {
		if _, err := os.Stat(p); !os.IsNotExist(err) {
			t.Errorf("%s left behind after a failed conversion", p)
		}
	}

	// Not a sparse file at all.
	if err := os.WriteFile(source, []byte("# Disk DescriptorFile\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if isHostedSparse(source) {
		t.Fatal("a text descriptor was taken for a hosted sparse file")
	}
}

func TestConvertSparseToFlatGrowsToTheDestSpecCapacityButNeverShrinks(t *testing.T) {
	dir := t.TempDir()
	source := filepath.Join(dir, "s.vmdk")
	writeTestSparse(t, source, 2*65536, 128, map[int64][]byte{0: bytes.Repeat([]byte{9}, 65536)}, testDescriptor)
	if err := convertSparseToFlat(source, filepath.Join(dir, "big.vmdk"), flatSpec{adapter: "buslogic", capacity: 8 * 65536}); err != nil {
		t.Fatal(err)
	}
	info, err := os.Stat(filepath.Join(dir, "big-flat.vmdk"))
	if err != nil || info.Size() != 8*65536 {
		t.Fatalf("grown extent: %v, %v", info, err)
	}
	text, _ := os.ReadFile(filepath.Join(dir, "big.vmdk"))
	if !strings.Contains(string(text), "RW 1024 FLAT \"big-flat.vmdk\" 0\n") || !strings.Contains(string(text), `ddb.adapterType = "buslogic"`) || strings.Contains(string(text), "thinProvisioned") {
		t.Fatalf("descriptor of a grown thick copy:\n%s", text)
	}
	var invalid *invalidSourceError
	if err := convertSparseToFlat(source, filepath.Join(dir, "small.vmdk"), flatSpec{adapter: "lsilogic", capacity: 65536}); !errors.As(err, &invalid) {
		t.Fatalf("a smaller destSpec capacity gave %v, want invalidSourceError", err)
	}
}
