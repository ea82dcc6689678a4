package main

import (
	"testing"

	"github.com/vmware/govmomi/property"
	"github.com/vmware/govmomi/simulator"
	"github.com/vmware/govmomi/vim25/methods"
	"github.com/vmware/govmomi/vim25/mo"
	"github.com/vmware/govmomi/vim25/soap"
	"github.com/vmware/govmomi/vim25/types"
)

func TestMoveIntoResourcePoolMovesTheVMBetweenThePoolsVMLists(t *testing.T) {
	// GIVEN the launcher's dispatch over a simulator with one VM in the cluster's root pool and an empty child pool
	model := simulator.VPX()
	model.Host = 0
	ctx, client, finder, _ := dispatchUnderTest(t, model, installPoolMove)
	root, err := finder.ResourcePool(ctx, "DC0_C0/Resources")
	if err != nil {
		t.Fatal(err)
	}
	child, err := root.Create(ctx, "moved-to", types.DefaultResourceConfigSpec())
	if err != nil {
		t.Fatal(err)
	}
	vm, err := finder.VirtualMachine(ctx, "DC0_C0_RP0_VM0")
	if err != nil {
		t.Fatal(err)
	}
	collector := property.DefaultCollector(client.Client)
	poolVMs := func(pool types.ManagedObjectReference) []types.ManagedObjectReference {
		var p mo.ResourcePool
		if err := collector.RetrieveOne(ctx, pool, []string{"vm"}, &p); err != nil {
			t.Fatal(err)
		}
		return p.Vm
	}
	has := func(list []types.ManagedObjectReference, ref types.ManagedObjectReference) bool {
		for _, r := range list {
			if r == ref {
				return true
			}
		}
		return false
	}
	if !has(poolVMs(root.Reference()), vm.Reference()) {
		t.Fatalf("the model's VM %s is not in the root pool", vm.Reference().Value)
	}

	// WHEN the VM is moved into the child pool
	if _, err := methods.MoveIntoResourcePool(ctx, client.Client, &types.MoveIntoResourcePool{This: child.Reference(), List: []types.ManagedObjectReference{vm.Reference()}}); err != nil {
		t.Fatal(err)
	}

	// THEN the VM names the child pool, which lists it, and the root pool lists it no more
	var moved mo.VirtualMachine
	if err := collector.RetrieveOne(ctx, vm.Reference(), []string{"resourcePool"}, &moved); err != nil {
		t.Fatal(err)
	}
	if moved.ResourcePool == nil || *moved.ResourcePool != child.Reference() {
		t.Fatalf("resourcePool: want %s, got %v", child.Reference().Value, moved.ResourcePool)
	}
	if !has(poolVMs(child.Reference()), vm.Reference()) || has(poolVMs(root.Reference()), vm.Reference()) {
		t.Fatalf("vm lists: the child pool %v, the root pool %v", poolVMs(child.Reference()), poolVMs(root.Reference()))
	}
	// AND the emptied pool can be destroyed (vcsim's own RelocateVM_Task left the VM listed there, and the destroy panicked)
	if _, err := root.Create(ctx, "emptied", types.DefaultResourceConfigSpec()); err != nil {
		t.Fatal(err)
	}
	emptied, err := finder.ResourcePool(ctx, "DC0_C0/Resources/emptied")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := methods.MoveIntoResourcePool(ctx, client.Client, &types.MoveIntoResourcePool{This: emptied.Reference(), List: []types.ManagedObjectReference{vm.Reference()}}); err != nil {
		t.Fatal(err)
	}
	if _, err := methods.MoveIntoResourcePool(ctx, client.Client, &types.MoveIntoResourcePool{This: child.Reference(), List: []types.ManagedObjectReference{vm.Reference()}}); err != nil {
		t.Fatal(err)
	}
	destroyed, err := emptied.Destroy(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if err := destroyed.Wait(ctx); err != nil {
		t.Fatal(err)
	}

	// AND a pool in the list is refused, naming it, and moves nothing
	_, err = methods.MoveIntoResourcePool(ctx, client.Client, &types.MoveIntoResourcePool{This: root.Reference(), List: []types.ManagedObjectReference{vm.Reference(), child.Reference()}})
	if err == nil || !soap.IsSoapFault(err) {
		t.Fatalf("want a SOAP fault for a pool in the list, got %v", err)
	}
	if _, ok := soap.ToSoapFault(err).VimFault().(types.NotSupported); !ok {
		t.Fatalf("want NotSupported, got %#v", soap.ToSoapFault(err).VimFault())
	}
	if !has(poolVMs(child.Reference()), vm.Reference()) {
		t.Fatal("a refused move moved the VM")
	}
}
