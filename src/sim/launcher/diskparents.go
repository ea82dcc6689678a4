package main

import (
	"fmt"
	"os"

	"github.com/vmware/govmomi/simulator"
	"github.com/vmware/govmomi/vim25/methods"
	"github.com/vmware/govmomi/vim25/mo"
	"github.com/vmware/govmomi/vim25/soap"
	"github.com/vmware/govmomi/vim25/types"
)

// The simulator makes a VM whose new child disk names a parent that is not on the datastore (it
// never opens a parent), so a client that lets an image disk be deleted while it still creates VMs
// over it sees the create succeed. ESX opens the whole chain when it creates the child, and fails
// the task: an InvalidDeviceSpec on the device whose backing's parent is missing (property
// "virtualDeviceSpec.device.backing.parent.fileName", "Invalid configuration for device 'N'."),
// as reported from vCenter when a linked-clone base disk had been deleted. The launcher does the
// same for CreateVM_Task.

// parentDiskProperty is the property ESX names in the fault.
const parentDiskProperty = "virtualDeviceSpec.device.backing.parent.fileName"

// parentCheckRef names the launcher's own object that takes every CreateVM_Task: the simulator
// prefers the inventory's object over a dispatch handler's for a logged-in caller, so the call is
// sent to another inventory object rather than to a wrapper of the folder.
var parentCheckRef = types.ManagedObjectReference{Type: "VicLauncherParentCheck", Value: "parent-check"}

// installParentDiskCheck sends CreateVM_Task on a folder to parentCheck (the folder stays in the
// request's _this).
func installParentDiskCheck() {
	redirectMethod("CreateVM_Task", "Folder", &parentCheck{ExtensibleManagedObject: mo.ExtensibleManagedObject{Self: parentCheckRef}})
}

// redirectMethod puts the launcher's object `to` in the inventory and sends every call of `method`
// on an object of type `thisType` to it (the object called stays in the request's _this), keeping
// any dispatch handler already installed.
func redirectMethod(method, thisType string, to mo.Reference) {
	simulator.Map.Put(to)
	ref := to.Reference()
	previous := simulator.Map.Handler
	simulator.Map.Handler = func(ctx *simulator.Context, m *simulator.Method) (mo.Reference, types.BaseMethodFault) {
		if m.Name == method && m.This.Type == thisType {
			m.This = ref
		}
		if previous != nil {
			return previous(ctx, m)
		}
		return nil, nil
	}
}

// parentCheck answers CreateVM_Task over a missing parent disk; every other create is its folder's.
// It embeds a managed object type, as every object of the simulator's inventory must (lookups that
// walk them all, FindByUuid say, read each one's), under a type of its own that no lookup asks for.
type parentCheck struct {
	mo.ExtensibleManagedObject
}

func (p *parentCheck) CreateVMTask(ctx *simulator.Context, req *types.CreateVM_Task) soap.HasFault {
	folder, ok := ctx.Map.Get(req.This).(*simulator.Folder)
	if !ok {
		return &methods.CreateVM_TaskBody{Fault_: simulator.Fault("", &types.ManagedObjectNotFound{Obj: req.This})}
	}
	if fault := missingParentDisk(ctx, datacenterOf(ctx, req.This), req.Config.DeviceChange); fault != nil {
		task := newInjectedTask("CreateVM_Task", req.This)
		failTask(task, fault, fmt.Sprintf("Invalid configuration for device '%d'.", fault.DeviceIndex))
		return &methods.CreateVM_TaskBody{Res: &types.CreateVM_TaskResponse{Returnval: task.Self}}
	}
	var res soap.HasFault
	// The folder's own lock, as the simulator takes it for the call it dispatches there.
	ctx.WithLock(folder, func() { res = folder.CreateVMTask(ctx, req) })
	return res
}

// missingParentDisk is the fault ESX gives a device change whose disk backing (a new child disk,
// or one attached) names a parent, at any depth, that the datastore does not hold.
func missingParentDisk(ctx *simulator.Context, dc *types.ManagedObjectReference, changes []types.BaseVirtualDeviceConfigSpec) *types.InvalidDeviceSpec {
	for index, change := range changes {
		spec := change.GetVirtualDeviceConfigSpec()
		if spec.Operation != types.VirtualDeviceConfigSpecOperationAdd {
			continue
		}
		disk, ok := spec.Device.(*types.VirtualDisk)
		if !ok {
			continue
		}
		for _, parent := range parentChain(disk.Backing) {
			if !datastoreFileExists(ctx, dc, parent) {
				return &types.InvalidDeviceSpec{
					InvalidVmConfig: types.InvalidVmConfig{
						VmConfigFault: types.VmConfigFault{VimFault: types.VimFault{MethodFault: types.MethodFault{
							FaultCause:   &types.LocalizedMethodFault{Fault: &types.FileNotFound{FileFault: types.FileFault{File: parent}}, LocalizedMessage: fmt.Sprintf("File %s was not found", parent)},
							FaultMessage: []types.LocalizableMessage{{Key: "msg.disk.noBackEnd", Message: fmt.Sprintf("Cannot open the disk '%s' or one of the snapshot disks it depends on.", parent)}},
						}}},
						Property: parentDiskProperty,
					},
					DeviceIndex: int32(index),
				}
			}
		}
	}
	return nil
}

// parentChain lists the files of a disk backing's parents, nearest first.
func parentChain(backing types.BaseVirtualDeviceBackingInfo) []string {
	var files []string
	switch b := backing.(type) {
	case *types.VirtualDiskFlatVer2BackingInfo:
		for p := b.Parent; p != nil; p = p.Parent {
			files = append(files, p.FileName)
		}
	case *types.VirtualDiskSparseVer2BackingInfo:
		for p := b.Parent; p != nil; p = p.Parent {
			files = append(files, p.FileName)
		}
	}
	return files
}

// datastoreFileExists tells whether "[ds] path" is a file on its datastore. A path the datacenter
// cannot resolve counts as missing: ESX cannot open that parent either.
func datastoreFileExists(ctx *simulator.Context, dc *types.ManagedObjectReference, name string) bool {
	local, fault := localDatastorePath(ctx, dc, name)
	if fault != nil {
		return false
	}
	info, err := os.Stat(local)
	return err == nil && !info.IsDir()
}

// datacenterOf is the datacenter above an inventory object, nil when none is (then every
// datastore path is refused as ESX would refuse it without a datacenter).
func datacenterOf(ctx *simulator.Context, ref types.ManagedObjectReference) *types.ManagedObjectReference {
	for i := 0; i < 64; i++ {
		obj := ctx.Map.Get(ref)
		if obj == nil {
			return nil
		}
		if dc, ok := obj.(*simulator.Datacenter); ok {
			self := dc.Self
			return &self
		}
		entity, ok := obj.(mo.Entity)
		if !ok || entity.Entity().Parent == nil {
			return nil
		}
		ref = *entity.Entity().Parent
	}
	return nil
}
