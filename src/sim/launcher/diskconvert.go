package main

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"os"
	"path"
	"path/filepath"
	"regexp"
	"strings"

	"github.com/vmware/govmomi/object"
	"github.com/vmware/govmomi/simulator"
	"github.com/vmware/govmomi/vim25"
	"github.com/vmware/govmomi/vim25/methods"
	"github.com/vmware/govmomi/vim25/soap"
	"github.com/vmware/govmomi/vim25/types"
)

// convertingDiskManager does what ESX documents for CopyVirtualDisk_Task with a destSpec ("copy a
// virtual disk, performing conversions as specified in the spec") for the one source vic-iac sends:
// a hosted sparse VMDK (monolithicSparse) uploaded to the datastore. The simulator itself answers
// NotImplemented for any destSpec in vCenter mode. The destination is written as a descriptor and a
// -flat.vmdk extent (a sparse file on the host, holes where the source had no grain), the form every
// other consumer of the simulator's datastores (browser, guest runner, child disks) already reads.
// Every other call goes to the manager registered before it (the guest runner's, or the simulator's).
type convertingDiskManager struct {
	*simulator.VirtualDiskManager
	next diskManagerCalls
}

// diskManagerCalls are the methods an earlier wrapper (the guest runner's) may override.
type diskManagerCalls interface {
	CopyVirtualDiskTask(*simulator.Context, *types.CopyVirtualDisk_Task) soap.HasFault
	ExtendVirtualDiskTask(*simulator.Context, *types.ExtendVirtualDisk_Task) soap.HasFault
}

// simulatorDiskManager is the simulator's own VirtualDiskManager; take it before the guest runner
// wraps it.
func simulatorDiskManager() *simulator.VirtualDiskManager {
	si, ok := simulator.Map.Get(vim25.ServiceInstance).(*simulator.ServiceInstance)
	if !ok || si.Content.VirtualDiskManager == nil {
		return nil
	}
	m, _ := simulator.Map.Get(*si.Content.VirtualDiskManager).(*simulator.VirtualDiskManager)
	return m
}

// installDiskConversion wraps the VirtualDiskManager the registry holds now (the guest runner's
// wrapper, or base itself), so both keep working; base answers every method neither overrides.
func installDiskConversion(base *simulator.VirtualDiskManager) {
	if base == nil {
		return
	}
	next, ok := simulator.Map.Get(base.Reference()).(diskManagerCalls)
	if !ok {
		return
	}
	simulator.Map.Put(&convertingDiskManager{VirtualDiskManager: base, next: next})
}

func (m *convertingDiskManager) ExtendVirtualDiskTask(ctx *simulator.Context, req *types.ExtendVirtualDisk_Task) soap.HasFault {
	return m.next.ExtendVirtualDiskTask(ctx, req)
}

func (m *convertingDiskManager) CopyVirtualDiskTask(ctx *simulator.Context, req *types.CopyVirtualDisk_Task) soap.HasFault {
	if req.DestSpec == nil {
		return m.next.CopyVirtualDiskTask(ctx, req)
	}
	source, fault := localDatastorePath(ctx, req.SourceDatacenter, req.SourceName)
	if fault != nil || !isHostedSparse(source) {
		return m.next.CopyVirtualDiskTask(ctx, req)
	}
	destDC := req.DestDatacenter
	if destDC == nil {
		destDC = req.SourceDatacenter
	}
	task := simulator.CreateTask(m, "copyVirtualDisk", func(*simulator.Task) (types.AnyType, types.BaseMethodFault) {
		spec, fault := conversionSpec(req.DestSpec)
		if fault != nil {
			return nil, fault
		}
		dest, fault := localDatastorePath(ctx, destDC, req.DestName)
		if fault != nil {
			return nil, fault
		}
		if err := convertSparseToFlat(source, dest, spec); err != nil {
			var exists *existsError
			if errors.As(err, &exists) {
				return nil, &types.FileAlreadyExists{FileFault: types.FileFault{File: req.DestName}}
			}
			var invalid *invalidSourceError
			if errors.As(err, &invalid) {
				return nil, &types.InvalidDiskFormat{}
			}
			return nil, &types.FileFault{File: req.DestName}
		}
		return nil, nil
	})
	return &methods.CopyVirtualDisk_TaskBody{Res: &types.CopyVirtualDisk_TaskResponse{Returnval: task.Run(ctx)}}
}

// flatSpec is what the conversion needs from the destSpec.
type flatSpec struct {
	adapter  string // the descriptor's ddb.adapterType
	thin     bool
	capacity int64 // bytes; 0 keeps the source's
}

// conversionSpec accepts the disk types whose ESX form is a flat extent (thin, thick, eager-zeroed);
// the simulator stores all of them as a sparse host file. Hosted and special formats are refused as
// not supported, which is what a client falls back on.
func conversionSpec(spec types.BaseVirtualDiskSpec) (flatSpec, types.BaseMethodFault) {
	base := spec.GetVirtualDiskSpec()
	out := flatSpec{}
	switch base.DiskType {
	case string(types.VirtualDiskTypeThin):
		out.thin = true
	case string(types.VirtualDiskTypePreallocated), string(types.VirtualDiskTypeThick), string(types.VirtualDiskTypeEagerZeroedThick):
	default:
		return out, &types.NotSupported{}
	}
	switch base.AdapterType {
	case string(types.VirtualDiskAdapterTypeLsiLogic):
		out.adapter = "lsilogic"
	case string(types.VirtualDiskAdapterTypeBusLogic):
		out.adapter = "buslogic"
	case string(types.VirtualDiskAdapterTypeIde):
		out.adapter = "ide"
	default:
		return out, &types.InvalidArgument{InvalidProperty: "destSpec.adapterType"}
	}
	if fb, ok := spec.(*types.FileBackedVirtualDiskSpec); ok {
		out.capacity = fb.CapacityKb * 1024
	}
	return out, nil
}

// localDatastorePath maps "[ds] path" in the datacenter to the datastore's directory on this host.
func localDatastorePath(ctx *simulator.Context, dc *types.ManagedObjectReference, name string) (string, types.BaseMethodFault) {
	var p object.DatastorePath
	if !p.FromString(name) || p.Datastore == "" {
		return "", &types.InvalidDatastorePath{DatastorePath: name}
	}
	if dc == nil {
		return "", &types.InvalidArgument{InvalidProperty: "datacenter"}
	}
	datacenter, ok := ctx.Map.Get(*dc).(*simulator.Datacenter)
	if !ok {
		return "", &types.ManagedObjectNotFound{Obj: *dc}
	}
	folder, ok := ctx.Map.Get(datacenter.DatastoreFolder).(*simulator.Folder)
	if !ok {
		return "", &types.InvalidDatastore{Name: p.Datastore}
	}
	for _, child := range folder.ChildEntity {
		ds, ok := ctx.Map.Get(child).(*simulator.Datastore)
		if !ok || ds.Name != p.Datastore {
			continue
		}
		dir := ds.Info.GetDatastoreInfo().Url
		full := filepath.Join(dir, filepath.FromSlash(path.Clean("/"+p.Path)))
		return full, nil
	}
	return "", &types.InvalidDatastore{Name: p.Datastore}
}

// The hosted sparse extent format (VMware's "Virtual Disk Format 1.1"): a 512-byte header, an
// optional embedded descriptor, a grain directory whose entries point at grain tables, whose
// entries point at grains (0: never written, reads as zeros). All numbers little-endian, offsets in
// 512-byte sectors.
const (
	sectorSize      = 512
	sparseMagic     = 0x564d444b // "KDMV"
	flagCompressed  = 1 << 16
	maxGrainSectors = 1 << 16 // far above any real grain (VMware's default is 128)
)

type sparseHeader struct {
	Magic              uint32
	Version            uint32
	Flags              uint32
	Capacity           uint64
	GrainSize          uint64
	DescriptorOffset   uint64
	DescriptorSize     uint64
	NumGTEsPerGT       uint32
	RgdOffset          uint64
	GdOffset           uint64
	OverHead           uint64
	UncleanShutdown    uint8
	SingleEndLineChar  byte
	NonEndLineChar     byte
	DoubleEndLineChar1 byte
	DoubleEndLineChar2 byte
	CompressAlgorithm  uint16
}

type existsError struct{ path string }

func (e *existsError) Error() string { return e.path + " already exists" }

type invalidSourceError struct{ reason string }

func (e *invalidSourceError) Error() string { return "not a usable hosted sparse VMDK: " + e.reason }

// isHostedSparse tells whether the file starts with the sparse extent magic.
func isHostedSparse(file string) bool {
	f, err := os.Open(file)
	if err != nil {
		return false
	}
	defer f.Close()
	var magic uint32
	return binary.Read(f, binary.LittleEndian, &magic) == nil && magic == sparseMagic
}

func readSparseHeader(f io.ReaderAt) (sparseHeader, error) {
	var h sparseHeader
	buf := make([]byte, sectorSize)
	if _, err := f.ReadAt(buf, 0); err != nil {
		return h, &invalidSourceError{"cannot read its header: " + err.Error()}
	}
	if err := binary.Read(bytes.NewReader(buf), binary.LittleEndian, &h); err != nil {
		return h, &invalidSourceError{err.Error()}
	}
	switch {
	case h.Magic != sparseMagic:
		return h, &invalidSourceError{"no KDMV magic"}
	case h.Version < 1 || h.Version > 3:
		return h, &invalidSourceError{fmt.Sprintf("version %d", h.Version)}
	case h.Flags&flagCompressed != 0 || h.CompressAlgorithm != 0:
		return h, &invalidSourceError{"compressed grains (streamOptimized) are not converted here"}
	case h.GrainSize < 8 || h.GrainSize > maxGrainSectors || h.GrainSize&(h.GrainSize-1) != 0:
		return h, &invalidSourceError{fmt.Sprintf("grain of %d sectors", h.GrainSize)}
	case h.NumGTEsPerGT == 0 || h.NumGTEsPerGT > 1<<16:
		return h, &invalidSourceError{fmt.Sprintf("%d entries per grain table", h.NumGTEsPerGT)}
	case h.Capacity == 0 || h.Capacity > 1<<40:
		return h, &invalidSourceError{fmt.Sprintf("capacity of %d sectors", h.Capacity)}
	case h.GdOffset == 0:
		return h, &invalidSourceError{"no grain directory"}
	}
	return h, nil
}

var (
	createTypeLine = regexp.MustCompile(`(?m)^createType\s*=\s*"[^"]*"\s*$`)
	sparseExtent   = regexp.MustCompile(`(?m)^(RW|RDONLY)\s+\d+\s+SPARSE\s+"[^"]*".*$`)
	adapterLine    = regexp.MustCompile(`(?m)^ddb\.adapterType\s*=.*$`)
	thinLine       = regexp.MustCompile(`(?m)^ddb\.thinProvisioned\s*=.*\n?`)
)

// flatDescriptor rewrites the source's embedded descriptor for the flat destination: its createType
// and extent line change, the adapter comes from the destSpec, the rest (CID, geometry) is kept.
func flatDescriptor(embedded string, extentName string, sectors int64, spec flatSpec) string {
	text := strings.TrimRight(strings.ReplaceAll(embedded, "\x00", ""), "\n") + "\n"
	if !createTypeLine.MatchString(text) || !sparseExtent.MatchString(text) {
		text = "# Disk DescriptorFile\nversion=1\nencoding=\"UTF-8\"\nCID=fffffffe\nparentCID=ffffffff\ncreateType=\"monolithicSparse\"\n\n# Extent description\nRW 0 SPARSE \"x\"\n\n# The Disk Data Base\n#DDB\n\n"
	}
	text = createTypeLine.ReplaceAllLiteralString(text, `createType="monolithicFlat"`)
	text = sparseExtent.ReplaceAllLiteralString(text, fmt.Sprintf(`RW %d FLAT "%s" 0`, sectors, extentName))
	adapter := fmt.Sprintf(`ddb.adapterType = "%s"`, spec.adapter)
	if adapterLine.MatchString(text) {
		text = adapterLine.ReplaceAllLiteralString(text, adapter)
	} else {
		text += adapter + "\n"
	}
	text = thinLine.ReplaceAllLiteralString(text, "")
	if spec.thin {
		text += "ddb.thinProvisioned = \"1\"\n"
	}
	return text
}

// convertSparseToFlat writes dest (a descriptor path ending in .vmdk) and its -flat.vmdk extent from
// the hosted sparse file source. As on ESX, an existing destination is never overwritten. The
// extent is written before the descriptor, and both are removed again on failure.
func convertSparseToFlat(source, dest string, spec flatSpec) (err error) {
	if !strings.HasSuffix(dest, ".vmdk") {
		return fmt.Errorf("destination %s does not end in .vmdk", dest)
	}
	extent := strings.TrimSuffix(dest, ".vmdk") + "-flat.vmdk"
	for _, p := range []string{dest, extent} {
		if _, statErr := os.Lstat(p); statErr == nil {
			return &existsError{p}
		}
	}
	src, err := os.Open(source)
	if err != nil {
		return err
	}
	defer src.Close()
	info, err := src.Stat()
	if err != nil {
		return err
	}
	h, err := readSparseHeader(src)
	if err != nil {
		return err
	}
	capacity := int64(h.Capacity) * sectorSize
	if spec.capacity > 0 && spec.capacity < capacity {
		return &invalidSourceError{fmt.Sprintf("destSpec capacity %d bytes is smaller than the source's %d", spec.capacity, capacity)}
	}
	size := capacity
	if spec.capacity > size {
		size = spec.capacity
	}
	embedded := ""
	if h.DescriptorOffset > 0 && h.DescriptorSize > 0 && h.DescriptorSize < 2048 {
		buf := make([]byte, h.DescriptorSize*sectorSize)
		if _, err := src.ReadAt(buf, int64(h.DescriptorOffset)*sectorSize); err != nil {
			return &invalidSourceError{"cannot read its descriptor: " + err.Error()}
		}
		embedded = string(buf)
	}

	out, err := os.OpenFile(extent, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o644)
	if err != nil {
		if os.IsExist(err) {
			return &existsError{extent}
		}
		return err
	}
	defer func() {
		if cerr := out.Close(); err == nil {
			err = cerr
		}
		if err != nil {
			_ = os.Remove(extent)
			_ = os.Remove(dest)
		}
	}()
	// Truncate first: every grain never written stays a hole.
	if err = out.Truncate(size); err != nil {
		return err
	}
	if err = copyGrains(src, info.Size(), h, out, capacity); err != nil {
		return err
	}
	text := flatDescriptor(embedded, filepath.Base(extent), size/sectorSize, spec)
	d, err := os.OpenFile(dest, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o644)
	if err != nil {
		if os.IsExist(err) {
			return &existsError{dest}
		}
		return err
	}
	if _, err = d.WriteString(text); err != nil {
		d.Close()
		return err
	}
	return d.Close()
}

// copyGrains walks the grain directory and writes every allocated, non-zero grain at its place.
func copyGrains(src io.ReaderAt, srcSize int64, h sparseHeader, out io.WriterAt, capacity int64) error {
	grainBytes := int64(h.GrainSize) * sectorSize
	grains := (capacity + grainBytes - 1) / grainBytes
	perTable := int64(h.NumGTEsPerGT)
	tables := (grains + perTable - 1) / perTable
	inside := func(sector uint64, length int64) bool {
		return sector > 0 && int64(sector) <= (srcSize-length)/sectorSize
	}
	gd := make([]uint32, tables)
	if !inside(h.GdOffset, tables*4) {
		return &invalidSourceError{"grain directory past the end of the file"}
	}
	if err := binary.Read(io.NewSectionReader(src, int64(h.GdOffset)*sectorSize, tables*4), binary.LittleEndian, gd); err != nil {
		return &invalidSourceError{"cannot read the grain directory: " + err.Error()}
	}
	gt := make([]uint32, perTable)
	grain := make([]byte, grainBytes)
	for t, gtSector := range gd {
		if gtSector == 0 {
			continue
		}
		if !inside(uint64(gtSector), perTable*4) {
			return &invalidSourceError{fmt.Sprintf("grain table %d past the end of the file", t)}
		}
		if err := binary.Read(io.NewSectionReader(src, int64(gtSector)*sectorSize, perTable*4), binary.LittleEndian, gt); err != nil {
			return &invalidSourceError{fmt.Sprintf("cannot read grain table %d: %v", t, err)}
		}
		for e, sector := range gt {
			index := int64(t)*perTable + int64(e)
			if sector == 0 || index >= grains {
				continue
			}
			offset := index * grainBytes
			length := grainBytes
			if offset+length > capacity {
				length = capacity - offset
			}
			if !inside(uint64(sector), length) {
				return &invalidSourceError{fmt.Sprintf("grain %d past the end of the file", index)}
			}
			if _, err := src.ReadAt(grain[:length], int64(sector)*sectorSize); err != nil {
				return &invalidSourceError{fmt.Sprintf("cannot read grain %d: %v", index, err)}
			}
			if allZero(grain[:length]) {
				continue
			}
			if _, err := out.WriteAt(grain[:length], offset); err != nil {
				return err
			}
		}
	}
	return nil
}

func allZero(b []byte) bool {
	for _, c := range b {
		if c != 0 {
			return false
		}
	}
	return true
}
