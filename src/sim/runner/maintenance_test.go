package runner

import (
	"bufio"
	"encoding/base64"
	"encoding/json"
	"os/exec"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/vmware/govmomi/simulator"
	"github.com/vmware/govmomi/vim25/types"
)

// A VM with a maintenance request gets the same config with "maintenance": true, and publishes
// nothing; without one, the config goes to the tether byte for byte.
func TestBuildLaunchSpec_GivenAMaintenanceRequest_ThenTheConfigSaysSoAndNothingIsPublished(t *testing.T) {
	ds := t.TempDir()
	mustWrite(t, filepath.Join(ds, "vch/bootstrap.iso"), "iso")
	mustWrite(t, filepath.Join(ds, "vch/images/d/d.vmdk"), "# Disk DescriptorFile\nRW 2048 FLAT \"d-flat.vmdk\" 0\n")
	devices := []types.BaseVirtualDevice{
		&types.VirtualCdrom{VirtualDevice: types.VirtualDevice{Backing: &types.VirtualCdromIsoBackingInfo{VirtualDeviceFileBackingInfo: types.VirtualDeviceFileBackingInfo{FileName: "[ds] vch/bootstrap.iso"}}}},
		&types.VirtualDisk{CapacityInKB: 4096, VirtualDevice: types.VirtualDevice{Backing: &types.VirtualDiskFlatVer2BackingInfo{
			VirtualDeviceFileBackingInfo: types.VirtualDeviceFileBackingInfo{FileName: "[ds] vch/containers/web/web.vmdk"},
			Parent:                       &types.VirtualDiskFlatVer2BackingInfo{VirtualDeviceFileBackingInfo: types.VirtualDeviceFileBackingInfo{FileName: "[ds] vch/images/d/d.vmdk"}},
		}}},
	}
	cfgJSON := `{"version":1,"name":"web-1","cmd":["sh","-c","a < b && c > d"],"env":["K=v"],"rootfs":{"label":"vic-rootfs"}}`
	extra := map[string]string{
		guestConfigKey:  base64.StdEncoding.EncodeToString([]byte(cfgJSON)),
		exposedPortsKey: "80/tcp", portBindingsKey: "80/tcp=0.0.0.0:8080",
		maintenanceKey: "0a1b2c",
	}
	spec, err := buildLaunchSpec(vmConfig{Name: "web-1", Devices: devices, ExtraConfig: extra}, datastoreDirs{"ds": ds})
	if err != nil {
		t.Fatal(err)
	}
	if spec.Maintenance != "0a1b2c" || spec.Exposed != nil || spec.Bindings != nil {
		t.Errorf("THEN the token and no ports, got %q, %v, %v", spec.Maintenance, spec.Exposed, spec.Bindings)
	}
	var got, want map[string]any
	if err := json.Unmarshal(spec.ConfigJSON, &got); err != nil {
		t.Fatalf("THEN JSON, got %q: %v", spec.ConfigJSON, err)
	}
	_ = json.Unmarshal([]byte(cfgJSON), &want)
	want["maintenance"] = true
	if !reflect.DeepEqual(got, want) {
		t.Errorf("THEN the config with maintenance added\n got %v\nwant %v", got, want)
	}
	if !strings.Contains(string(spec.ConfigJSON), `"a < b && c > d"`) {
		t.Errorf("THEN the values as written, got %s", spec.ConfigJSON)
	}

	delete(extra, maintenanceKey)
	spec, err = buildLaunchSpec(vmConfig{Name: "web-1", Devices: devices, ExtraConfig: extra}, datastoreDirs{"ds": ds})
	if err != nil || spec.Maintenance != "" || string(spec.ConfigJSON) != cfgJSON || len(spec.Bindings) != 1 {
		t.Errorf("WHEN no request THEN the config as it is and the ports, got %q %s %v (%v)", spec.Maintenance, spec.ConfigJSON, spec.Bindings, err)
	}

	extra[maintenanceKey] = "0a1b2c"
	extra[guestConfigKey] = base64.StdEncoding.EncodeToString([]byte(`["not","an","object"]`))
	if _, err := buildLaunchSpec(vmConfig{Name: "web-1", Devices: devices, ExtraConfig: extra}, datastoreDirs{"ds": ds}); err == nil || !strings.Contains(err.Error(), "not a JSON object") {
		t.Errorf("WHEN the config is no object THEN no boot, got %v", err)
	}
}

func TestWithMaintenance_GivenAFalseOne_ThenItBecomesTrue(t *testing.T) {
	got, err := withMaintenance([]byte(`{"maintenance":false,"version":1}`))
	if err != nil || string(got) != `{"maintenance":true,"version":1}` {
		t.Errorf("got %s, %v", got, err)
	}
	for _, bad := range []string{`null`, `"x"`, `{`} {
		if _, err := withMaintenance([]byte(bad)); err == nil {
			t.Errorf("withMaintenance(%s) took it", bad)
		}
	}
}

// A maintenance boot's ready line writes its token and nothing of the container's; its other lines
// write nothing; a normal guest's lines are its status, unless they speak of maintenance.
func TestStatusLineUse_GivenEachGuestAndLine_ThenWhatItWrites(t *testing.T) {
	line := func(s string) map[string]string {
		f, ok := ParseStatusLine(s)
		if !ok {
			t.Fatalf("%q is a status line", s)
		}
		return f
	}
	ready := line("vic-status exec=serial maintenance=ready")
	running := line("vic-status exec=serial exit_code= finished_at= input= ip_addresses=10.0.2.15 restart_count=0 started_at=2026-01-01T00:00:00Z status=running")
	exited := line("vic-status exit_code=125 finished_at=2026-01-01T00:00:00Z ip_addresses= restart_count=0 status=exited")
	for _, c := range []struct {
		name        string
		fields      map[string]string
		maintenance bool
		want        statusUse
	}{
		{"maintenance, ready", ready, true, statusMaintenanceReady},
		{"maintenance, running", running, true, statusIgnored},
		{"maintenance, exited", exited, true, statusIgnored},
		{"normal, ready", ready, false, statusIgnored},
		{"normal, running", running, false, statusRecorded},
		{"normal, exited", exited, false, statusRecorded},
	} {
		if got := statusLineUse(c.fields, c.maintenance); got != c.want {
			t.Errorf("%s: %v, want %v", c.name, got, c.want)
		}
	}
}

// Exec requests go to a maintenance guest once it is ready, as to a guest whose process started.
func TestForwardInput_GivenAMaintenanceGuest_ThenMessagesGoOnceItIsReady(t *testing.T) {
	r := &Runner{opts: Options{Logf: t.Logf}}
	g := &guest{ref: types.ManagedObjectReference{Type: "VirtualMachine", Value: "vm-1"}, name: "web-1", maintenance: "0a1b2c"}
	cmd := exec.Command("cat")
	if err := g.signals.open(cmd, "", nil); err != nil {
		t.Fatal(err)
	}
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	g.signals.started()
	defer func() { g.signals.close(); _ = cmd.Wait() }()
	chunks := []inputChunk{{key: inputKeyPrefix + "001733000000001.000001", value: "exec:0a:eyJhcmNoaXZlIjp7Im9wIjoic3RhdCIsInBhdGgiOiIvIn19"}}
	if done := r.forwardInput(g, chunks); len(done) != 0 {
		t.Fatalf("WHEN not ready THEN the keys wait, got %v", done)
	}
	g.maintenanceReady = true
	if done := r.forwardInput(g, chunks); len(done) != 1 {
		t.Fatalf("WHEN ready THEN the key is passed on, got %v", done)
	}
	lines := make(chan string, 1)
	go func() {
		scanner := bufio.NewScanner(out)
		scanner.Scan()
		lines <- scanner.Text()
	}()
	select {
	case l := <-lines:
		if l != "vic-in "+chunks[0].value {
			t.Errorf("THEN the tether's line, got %q", l)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("THEN the line reaches QEMU's stdin, got nothing")
	}
}

// When a maintenance boot ends, on its own or killed, the container's keys stay as its last run
// left them (no exited 125, no 137), the VM is off, the ready key goes, and so does its own request,
// but not one with another token (the client's next one); a normal guest that never started its process
// ends as before (125).
func TestFinish_GivenAMaintenanceGuest_ThenNothingOfTheContainersIsWritten(t *testing.T) {
	model := simulator.VPX()
	if err := model.Create(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(model.Remove)
	for _, c := range []struct {
		name        string
		maintenance string
		status      string
		request     string // the VM's maintenanceKey when the guest ends
		left        string // and after
		want        map[string]string
	}{
		{"maintenance, exited before", "0a1b", "exited", "ffff", "ffff", map[string]string{"status": "exited", "exit_code": "3", "finished_at": "2026-01-01T00:00:01Z"}},
		{"maintenance, running on record", "0a1b", "running", "0a1b", "", map[string]string{"status": "running", "exit_code": "3", "finished_at": "2026-01-01T00:00:01Z"}},
		{"normal", "", "exited", "ffff", "ffff", map[string]string{"status": "exited", "exit_code": "125"}},
	} {
		vm := simulator.Map.All("VirtualMachine")[0].(*simulator.VirtualMachine)
		ref := vm.Reference()
		powerOn(vm)
		setExtraConfig(ref, map[string]string{
			statusKeyBase + "status": c.status, statusKeyBase + "exit_code": "3", statusKeyBase + "finished_at": "2026-01-01T00:00:01Z",
			statusKeyBase + "started_at": "2026-01-01T00:00:00Z", statusKeyBase + "ip_addresses": "10.0.2.15",
			maintenanceReadyKey: c.maintenance, maintenanceKey: c.request,
		})
		r := &Runner{opts: Options{Logf: t.Logf}, pending: map[types.ManagedObjectReference]bool{}, wake: make(chan struct{}, 1),
			guests: map[types.ManagedObjectReference]*guest{}, nets: newNetworks("qemu-system-x86_64", t.TempDir(), t.Logf)}
		g := &guest{ref: ref, name: vm.Name, boot: *vm.Summary.Runtime.BootTime, state: stateRunning, exited: make(chan struct{}), stderr: &tail{}, maintenance: c.maintenance}
		r.finish(g, nil, false)
		var extra map[string]string
		var state types.VirtualMachinePowerState
		simulator.Map.WithLock(simulator.SpoofContext(), vm, func() {
			extra, state = extraConfigMap(vm.Config.ExtraConfig), vm.Runtime.PowerState
		})
		for k, v := range c.want {
			if extra[statusKeyBase+k] != v {
				t.Errorf("%s: THEN %s = %q, got %q", c.name, k, v, extra[statusKeyBase+k])
			}
		}
		if c.maintenance != "" && (extra[statusKeyBase+"started_at"] != "2026-01-01T00:00:00Z" || extra[statusKeyBase+"ip_addresses"] != "10.0.2.15") {
			t.Errorf("%s: THEN the start time and addresses stay, got %v", c.name, extra)
		}
		if _, ready := extra[maintenanceReadyKey]; ready || extra[maintenanceKey] != c.left {
			t.Errorf("%s: THEN the ready key goes, and the request is %q (another token's stays), got %v", c.name, c.left, extra)
		}
		if state != types.VirtualMachinePowerStatePoweredOff {
			t.Errorf("%s: THEN the VM is off, got %s", c.name, state)
		}
	}
}

// powerOn sets a model VM on with a boot time, as PowerOnVM_Task does.
func powerOn(vm *simulator.VirtualMachine) {
	simulator.Map.WithLock(simulator.SpoofContext(), vm, func() {
		now := time.Now()
		vm.Runtime.PowerState = types.VirtualMachinePowerStatePoweredOn
		vm.Summary.Runtime.PowerState = types.VirtualMachinePowerStatePoweredOn
		vm.Summary.Runtime.BootTime = &now
	})
}
