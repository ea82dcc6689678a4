package main

import (
	"fmt"

	"github.com/vmware/govmomi/simulator"
	"github.com/vmware/govmomi/vim25/methods"
	"github.com/vmware/govmomi/vim25/mo"
	"github.com/vmware/govmomi/vim25/soap"
	"github.com/vmware/govmomi/vim25/types"
)

// vcsim has no MoveIntoResourcePool (what the vSphere Client's drag of a VM onto another pool
// calls), and its RelocateVM_Task with a pool leaves the VM in the old pool's vm list. A client that
// must find the VMs of a pool's that were moved elsewhere is tested against the launcher's move:
// as vCenter does, the VM leaves the old pool's vm list, joins the new pool's, and its resourcePool
// names the new pool. Pools of another compute resource are refused, as vCenter refuses them.

// poolMoveRef names the launcher's object that takes MoveIntoResourcePool (see parentCheckRef on
// why the call goes to another inventory object).
var poolMoveRef = types.ManagedObjectReference{Type: "VicLauncherPoolMove", Value: "pool-move"}

// installPoolMove sends MoveIntoResourcePool on a resource pool to poolMove (the pool stays in the
// request's _this).
func installPoolMove() {
	redirectMethod("MoveIntoResourcePool", "ResourcePool", &poolMove{ExtensibleManagedObject: mo.ExtensibleManagedObject{Self: poolMoveRef}})
}

type poolMove struct {
	mo.ExtensibleManagedObject
}

func moveFault(fault types.BaseMethodFault) soap.HasFault {
	return &methods.MoveIntoResourcePoolBody{Fault_: simulator.Fault("", fault)}
}

// MoveIntoResourcePool moves the VMs of req.List into the pool req.This; every VM is checked before
// any moves. Resource pools and vApps in the list are refused (NotSupported): nothing here moves them.
func (p *poolMove) MoveIntoResourcePool(ctx *simulator.Context, req *types.MoveIntoResourcePool) soap.HasFault {
	target, ok := ctx.Map.Get(req.This).(*simulator.ResourcePool)
	if !ok {
		return moveFault(&types.ManagedObjectNotFound{Obj: req.This})
	}
	vms := make([]*simulator.VirtualMachine, 0, len(req.List))
	for _, ref := range req.List {
		obj := ctx.Map.Get(ref)
		if obj == nil {
			return moveFault(&types.ManagedObjectNotFound{Obj: ref})
		}
		vm, ok := obj.(*simulator.VirtualMachine)
		if !ok {
			return moveFault(&types.NotSupported{RuntimeFault: types.RuntimeFault{MethodFault: types.MethodFault{
				FaultMessage: []types.LocalizableMessage{{Key: "vcsim.launcher.move", Message: fmt.Sprintf("the simulator's launcher moves VMs only, not %s %s", ref.Type, ref.Value)}},
			}}})
		}
		if vm.ResourcePool != nil {
			if from, ok := ctx.Map.Get(*vm.ResourcePool).(*simulator.ResourcePool); ok && from.Owner != target.Owner {
				return moveFault(&types.InvalidArgument{InvalidProperty: "list"})
			}
		}
		vms = append(vms, vm)
	}
	for _, vm := range vms {
		if vm.ResourcePool != nil {
			if from, ok := ctx.Map.Get(*vm.ResourcePool).(*simulator.ResourcePool); ok {
				ctx.Map.RemoveReference(ctx, from, &from.Vm, vm.Self)
			}
		}
		ctx.Map.AddReference(ctx, target, &target.Vm, vm.Self)
		pool := target.Self
		ctx.Map.AtomicUpdate(ctx, vm, []types.PropertyChange{{Name: "resourcePool", Val: &pool}})
	}
	return &methods.MoveIntoResourcePoolBody{Res: &types.MoveIntoResourcePoolResponse{}}
}
