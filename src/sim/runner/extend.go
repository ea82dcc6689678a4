package runner

import (
	"fmt"
	"os"
	"regexp"
	"strconv"

	"github.com/vmware/govmomi/simulator"
	"github.com/vmware/govmomi/vim25"
	"github.com/vmware/govmomi/vim25/methods"
	"github.com/vmware/govmomi/vim25/soap"
	"github.com/vmware/govmomi/vim25/types"
)

// flatDiskManager grows monolithicFlat disks (volumes) as ESXi would: the simulator's own
// ExtendVirtualDisk only knows its placeholder files and fails on a real flat extent. Every other
// disk, and every other method, goes to the simulator's VirtualDiskManager.
type flatDiskManager struct {
	*simulator.VirtualDiskManager
}

// installFlatDiskManager puts the wrapper in the simulator's registry in place of its
// VirtualDiskManager; the returned function puts the original back.
func installFlatDiskManager() func() {
	si, ok := simulator.Map.Get(vim25.ServiceInstance).(*simulator.ServiceInstance)
	if !ok || si.Content.VirtualDiskManager == nil {
		return func() {}
	}
	original, ok := simulator.Map.Get(*si.Content.VirtualDiskManager).(*simulator.VirtualDiskManager)
	if !ok {
		return func() {}
	}
	simulator.Map.Put(&flatDiskManager{original})
	return func() { simulator.Map.Put(original) }
}

func (m *flatDiskManager) ExtendVirtualDiskTask(ctx *simulator.Context, req *types.ExtendVirtualDisk_Task) soap.HasFault {
	descriptor, err := datastoreLocalDirs().localPath(req.Name)
	if err != nil {
		return m.VirtualDiskManager.ExtendVirtualDiskTask(ctx, req)
	}
	extent, err := flatExtent(descriptor)
	if err != nil {
		return m.VirtualDiskManager.ExtendVirtualDiskTask(ctx, req)
	}
	task := simulator.CreateTask(m, "extendVirtualDisk", func(*simulator.Task) (types.AnyType, types.BaseMethodFault) {
		if err := extendFlatDisk(descriptor, extent, req.NewCapacityKb*1024); err != nil {
			return nil, &types.FileFault{File: req.Name}
		}
		return nil, nil
	})
	return &methods.ExtendVirtualDisk_TaskBody{Res: &types.ExtendVirtualDisk_TaskResponse{Returnval: task.Run(ctx)}}
}

var extentSectorsPattern = regexp.MustCompile(`(?m)^(RW|RDONLY)\s+(\d+)(\s+FLAT\s+)`)

// extendFlatDisk grows the extent file (sparse) and the descriptor's sector count; it never shrinks.
func extendFlatDisk(descriptor, extent string, size int64) error {
	info, err := os.Stat(extent)
	if err != nil {
		return err
	}
	if size < info.Size() {
		return fmt.Errorf("%s is %d bytes; a disk never shrinks to %d", extent, info.Size(), size)
	}
	text, err := os.ReadFile(descriptor)
	if err != nil {
		return err
	}
	updated := extentSectorsPattern.ReplaceAll(text, []byte("${1} "+strconv.FormatInt(size/512, 10)+"${3}"))
	if err := os.Truncate(extent, size); err != nil {
		return err
	}
	return os.WriteFile(descriptor, updated, 0o644)
}
