package runner

import (
	"regexp"
	"testing"

	"github.com/vmware/govmomi/simulator"
	"github.com/vmware/govmomi/vim25/types"
)

// At the power-on the runner picks the host ports and writes them where clients read them, before
// the guest starts (or while it waits for a slot); the guest then publishes those, and no other.
func TestReservePorts_GivenAPowerOn_ThenThePortsAreShownAtOnceAndTheGuestTakesThem(t *testing.T) {
	model := simulator.VPX()
	if err := model.Create(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(model.Remove)
	vm := simulator.Map.All("VirtualMachine")[0].(*simulator.VirtualMachine)
	ref := vm.Reference()
	if !hasNIC(vm.Config.Hardware.Device) {
		t.Fatal("the model's VM has no NIC")
	}
	powerOff := func() {
		simulator.Map.WithLock(simulator.SpoofContext(), vm, func() {
			vm.Runtime.PowerState = types.VirtualMachinePowerStatePoweredOff
			vm.Summary.Runtime.PowerState = types.VirtualMachinePowerStatePoweredOff
		})
	}
	shownNow := func() string {
		var v string
		simulator.Map.WithLock(simulator.SpoofContext(), vm, func() { v = extraConfigValue(vm.Config.ExtraConfig, publishedKey) })
		return v
	}
	publishedAt := func() string {
		var v string
		simulator.Map.WithLock(simulator.SpoofContext(), vm, func() { v = extraConfigValue(vm.Config.ExtraConfig, publishedAtKey) })
		return v
	}
	r := &Runner{opts: Options{Logf: t.Logf}, pending: map[types.ManagedObjectReference]bool{}, wake: make(chan struct{}, 1),
		guests: map[types.ManagedObjectReference]*guest{}, reserved: map[types.ManagedObjectReference][]published{}}

	powerOff()
	setExtraConfig(ref, map[string]string{ownerKey: ownerValue, exposedPortsKey: "80/tcp,53/udp", portBindingsKey: "53/udp=0.0.0.0:0", publishedKey: "80/tcp=127.0.0.1:1"})
	r.ReservePorts(ref)
	shown := shownNow()
	if !regexp.MustCompile(`^53/udp=0\.0\.0\.0:\d+,80/tcp=127\.0\.0\.1:\d+$`).MatchString(shown) || shown == "80/tcp=127.0.0.1:1" || publishedAt() == "" {
		t.Fatalf("THEN the ports asked for and the exposed one, each on a free host port, dated, got %q at %q", shown, publishedAt())
	}

	powerOn(vm)
	r.reconcile(ref)
	g := r.guests[ref]
	if g == nil || !g.portsReserved || publishedText(g.ports) != shown || len(r.reserved) != 0 {
		t.Fatalf("WHEN it is powered on THEN its guest holds those ports, got %+v, reserved %v", g, r.reserved)
	}
	held, _ := r.heldBindings(types.ManagedObjectReference{Type: "VirtualMachine", Value: "another"})
	if len(held) != 2 {
		t.Errorf("THEN another VM's power-on sees them held while the guest waits for a slot, got %v", held)
	}

	// On already: its guest keeps its own.
	r.ReservePorts(ref)
	if shownNow() != shown || len(r.reserved) != 0 {
		t.Errorf("GIVEN a VM that is on THEN nothing is picked, got %q %v", shownNow(), r.reserved)
	}

	// A maintenance boot publishes nothing: the last run's ports go.
	powerOff()
	setExtraConfig(ref, map[string]string{maintenanceKey: "0a1b"})
	r.ReservePorts(ref)
	if shownNow() != "" || len(r.reserved[ref]) != 0 {
		t.Errorf("GIVEN a maintenance boot THEN no port, got %q %v", shownNow(), r.reserved)
	}

	// Not a vic VM: untouched.
	setExtraConfig(ref, map[string]string{maintenanceKey: "", ownerKey: "someone", publishedKey: "80/tcp=127.0.0.1:1"})
	delete(r.reserved, ref)
	r.ReservePorts(ref)
	if shownNow() != "80/tcp=127.0.0.1:1" || len(r.reserved) != 0 {
		t.Errorf("GIVEN a VM vic did not make THEN nothing is written, got %q %v", shownNow(), r.reserved)
	}
}
