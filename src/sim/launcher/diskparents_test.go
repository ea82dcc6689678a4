package main

import (
	"errors"
	"os"
	"path/filepath"
	"testing"

	"github.com/vmware/govmomi/object"
	"github.com/vmware/govmomi/simulator"
	"github.com/vmware/govmomi/task"
	"github.com/vmware/govmomi/vim25/types"
)

// childDiskSpec is a VM with one new child disk over parent, as vic-iac makes a container VM.
func childDiskSpec(name, parent string) types.VirtualMachineConfigSpec {
	controller := &types.ParaVirtualSCSIController{VirtualSCSIController: types.VirtualSCSIController{
		VirtualController: types.VirtualController{VirtualDevice: types.VirtualDevice{Key: -100}},
	}}
	unit := int32(0)
	disk := &types.VirtualDisk{
		VirtualDevice: types.VirtualDevice{
			Key: -101, ControllerKey: -100, UnitNumber: &unit,
			Backing: &types.VirtualDiskFlatVer2BackingInfo{
				VirtualDeviceFileBackingInfo: types.VirtualDeviceFileBackingInfo{FileName: "[LocalDS_0] " + name + "/" + name + ".vmdk"},
				DiskMode:                     string(types.VirtualDiskModePersistent),
				Parent: &types.VirtualDiskFlatVer2BackingInfo{
					VirtualDeviceFileBackingInfo: types.VirtualDeviceFileBackingInfo{FileName: parent},
				},
			},
		},
		CapacityInKB: 1024,
	}
	return types.VirtualMachineConfigSpec{
		Name:  name,
		Files: &types.VirtualMachineFileInfo{VmPathName: "[LocalDS_0] " + name + "/" + name + ".vmx"},
		DeviceChange: []types.BaseVirtualDeviceConfigSpec{
			&types.VirtualDeviceConfigSpec{Operation: types.VirtualDeviceConfigSpecOperationAdd, Device: controller},
			&types.VirtualDeviceConfigSpec{Operation: types.VirtualDeviceConfigSpecOperationAdd, FileOperation: types.VirtualDeviceConfigSpecFileOperationCreate, Device: disk},
		},
	}
}

func TestCreateVMOverAMissingParentDiskFailsItsTaskAsOnESX(t *testing.T) {
	// GIVEN the launcher's dispatch over a simulator, an image disk on LocalDS_0 and a client
	model := simulator.VPX()
	model.Machine = 0
	ctx, client, finder, dc := dispatchUnderTest(t, model, installParentDiskCheck)
	folders, err := dc.Folders(ctx)
	if err != nil {
		t.Fatal(err)
	}
	pool, err := finder.ResourcePool(ctx, "DC0_C0/Resources")
	if err != nil {
		t.Fatal(err)
	}
	ds, err := finder.Datastore(ctx, "LocalDS_0")
	if err != nil {
		t.Fatal(err)
	}
	store, ok := simulator.Map.Get(ds.Reference()).(*simulator.Datastore)
	if !ok {
		t.Fatal("LocalDS_0 is not a simulator datastore")
	}
	image := filepath.Join(store.Info.GetDatastoreInfo().Url, "store", "images", "abc")
	if err := os.MkdirAll(image, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(image, "abc.vmdk"), []byte("# Disk DescriptorFile\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	create := func(name, parent string) (*object.Task, error) {
		return folders.VmFolder.CreateVM(ctx, childDiskSpec(name, parent), pool, nil)
	}

	// WHEN a VM is made over the disk that exists THEN it is made
	made, err := create("over-image", "[LocalDS_0] store/images/abc/abc.vmdk")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := made.WaitForResult(ctx); err != nil {
		t.Fatalf("GIVEN the parent disk on the datastore THEN the create succeeds; got %v", err)
	}

	// WHEN the image disk is deleted and a VM is made over it again
	if err := os.RemoveAll(image); err != nil {
		t.Fatal(err)
	}
	refused, err := create("over-deleted", "[LocalDS_0] store/images/abc/abc.vmdk")
	if err != nil {
		t.Fatalf("the refusal is the task's, not the call's: %v", err)
	}
	_, err = refused.WaitForResult(ctx)

	// THEN its task fails with ESX's InvalidDeviceSpec on the disk (device 1), caused by the missing parent, and no VM is made
	var taskErr task.Error
	if !errors.As(err, &taskErr) {
		t.Fatalf("want a task error, got %v", err)
	}
	spec, ok := taskErr.Fault().(*types.InvalidDeviceSpec)
	if !ok {
		t.Fatalf("want InvalidDeviceSpec, got %T: %v", taskErr.Fault(), err)
	}
	if spec.Property != parentDiskProperty || spec.DeviceIndex != 1 || taskErr.LocalizedMessage != "Invalid configuration for device '1'." {
		t.Fatalf("want property %q on device 1, got %q on %d (%q)", parentDiskProperty, spec.Property, spec.DeviceIndex, taskErr.LocalizedMessage)
	}
	cause, ok := spec.FaultCause.Fault.(*types.FileNotFound)
	if !ok || cause.File != "[LocalDS_0] store/images/abc/abc.vmdk" {
		t.Fatalf("want the cause FileNotFound of the parent, got %#v", spec.FaultCause)
	}
	if _, err := finder.VirtualMachine(ctx, "over-deleted"); err == nil {
		t.Fatal("a refused create made a VM")
	}
	// AND lookups that walk every inventory object still work beside the launcher's own
	vm, err := finder.VirtualMachine(ctx, "over-image")
	if err != nil {
		t.Fatal(err)
	}
	local, ok := simulator.Map.Get(vm.Reference()).(*simulator.VirtualMachine)
	if !ok {
		t.Fatal("over-image is not a simulator VM")
	}
	found, err := object.NewSearchIndex(client.Client).FindByUuid(ctx, dc, local.Config.Uuid, true, nil)
	if err != nil || found == nil || found.Reference() != vm.Reference() {
		t.Fatalf("FindByUuid %s: got %v, %v", local.Config.Uuid, found, err)
	}
}
