package runner

import (
	"encoding/base64"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/vmware/govmomi/vim25/types"
)

func TestLocalPath_GivenDatastorePaths_ThenFilesUnderTheDatastoreDirectory(t *testing.T) {
	dirs := datastoreDirs{"LocalDS_0": "/tmp/ds0"}
	cases := map[string]string{
		"[LocalDS_0] vch/containers/web-1/web-1.vmx": "/tmp/ds0/vch/containers/web-1/web-1.vmx",
		"[LocalDS_0]iso/a.iso":                       "/tmp/ds0/iso/a.iso",
		"[LocalDS_0] ../../etc/passwd":               "/tmp/ds0/etc/passwd",
	}
	for in, want := range cases {
		if got, err := dirs.localPath(in); err != nil || got != want {
			t.Errorf("localPath(%q) = %q, %v; want %q", in, got, err, want)
		}
	}
	if _, err := dirs.localPath("[Other] x"); err == nil || !strings.Contains(err.Error(), `datastore "Other"`) {
		t.Errorf("unknown datastore: %v", err)
	}
	if _, err := dirs.localPath("no brackets"); err == nil {
		t.Error("a path without [datastore] must be refused")
	}
}

func TestParseStatusLine_GivenTheTethersLine_ThenItsFields(t *testing.T) {
	got, ok := ParseStatusLine("vic-status exit_code=1 finished_at=2026-01-01T00:00:00Z ip_addresses= status=exited\r")
	want := map[string]string{"exit_code": "1", "finished_at": "2026-01-01T00:00:00Z", "ip_addresses": "", "status": "exited"}
	if !ok || !reflect.DeepEqual(got, want) {
		t.Errorf("got %v %v, want %v", got, ok, want)
	}
	for _, line := range []string{"vic-tether: exit-status 1", "vic-status", "vic-status config.x=1"} {
		if _, ok := ParseStatusLine(line); ok {
			t.Errorf("%q is not a status line", line)
		}
	}
}

func TestParseExposedPorts_GivenImagePorts_ThenTCPAndUDPOnly(t *testing.T) {
	got := parseExposedPorts("80/tcp, 53/udp,8080,0/tcp,70000/tcp,9/sctp,x")
	want := []exposedPort{{"tcp", 80}, {"udp", 53}, {"tcp", 8080}}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("got %v, want %v", got, want)
	}
}

func TestBuildLaunchSpec_GivenAContainerVM_ThenItsFilesDevicesAndConfig(t *testing.T) {
	ds := t.TempDir()
	mustWrite(t, filepath.Join(ds, "vch/bootstrap.iso"), "iso")
	mustWrite(t, filepath.Join(ds, "vch/images/d/d.vmdk"), "# Disk DescriptorFile\nRW 2048 FLAT \"d-flat.vmdk\" 0\n")
	cfgJSON := `{"version":1}`
	devices := []types.BaseVirtualDevice{
		&types.VirtualCdrom{VirtualDevice: types.VirtualDevice{Backing: &types.VirtualCdromIsoBackingInfo{VirtualDeviceFileBackingInfo: types.VirtualDeviceFileBackingInfo{FileName: "[ds] vch/bootstrap.iso"}}}},
		&types.VirtualDisk{CapacityInKB: 4096, VirtualDevice: types.VirtualDevice{Backing: &types.VirtualDiskFlatVer2BackingInfo{
			VirtualDeviceFileBackingInfo: types.VirtualDeviceFileBackingInfo{FileName: "[ds] vch/containers/web/web.vmdk"},
			Parent:                       &types.VirtualDiskFlatVer2BackingInfo{VirtualDeviceFileBackingInfo: types.VirtualDeviceFileBackingInfo{FileName: "[ds] vch/images/d/d.vmdk"}},
		}}},
		&types.VirtualVmxnet3{VirtualVmxnet: types.VirtualVmxnet{VirtualEthernetCard: types.VirtualEthernetCard{MacAddress: "00:0c:29:aa:bb:cc", VirtualDevice: types.VirtualDevice{
			Backing: &types.VirtualEthernetCardNetworkBackingInfo{VirtualDeviceDeviceBackingInfo: types.VirtualDeviceDeviceBackingInfo{DeviceName: "VM Network"}},
		}}}},
		&types.VirtualE1000{VirtualEthernetCard: types.VirtualEthernetCard{MacAddress: "00:0c:29:aa:bb:cd", VirtualDevice: types.VirtualDevice{
			Backing: &types.VirtualEthernetCardDistributedVirtualPortBackingInfo{Port: types.DistributedVirtualSwitchPortConnection{PortgroupKey: "dvportgroup-7"}},
		}}},
		&types.VirtualSerialPort{VirtualDevice: types.VirtualDevice{Backing: &types.VirtualSerialPortFileBackingInfo{VirtualDeviceFileBackingInfo: types.VirtualDeviceFileBackingInfo{FileName: "[ds] vch/containers/web/console.log"}}}},
	}
	spec, err := buildLaunchSpec(vmConfig{
		Name: "web-1", UUID: "u", NumCPU: 2, MemoryMB: 256, Devices: devices,
		ExtraConfig: map[string]string{guestConfigKey: base64.StdEncoding.EncodeToString([]byte(cfgJSON)), exposedPortsKey: "80/tcp"},
	}, datastoreDirs{"ds": ds})
	if err != nil {
		t.Fatal(err)
	}
	want := launchSpec{
		Name: "web-1", UUID: "u", CPUs: 2, MemoryMB: 256,
		ISO:        filepath.Join(ds, "vch/bootstrap.iso"),
		Disks:      []diskSpec{{Overlay: filepath.Join(ds, "vch/containers/web/web.qcow2"), BackingExtent: filepath.Join(ds, "vch/images/d/d-flat.vmdk"), SizeBytes: 4096 * 1024}},
		Console:    filepath.Join(ds, "vch/containers/web/console.log"),
		NICs:       []nicSpec{{Model: "vmxnet3", MAC: "00:0c:29:aa:bb:cc", PortGroup: "VM Network"}, {Model: "e1000", MAC: "00:0c:29:aa:bb:cd", PortGroup: "dvportgroup-7"}},
		Exposed:    []exposedPort{{"tcp", 80}},
		ConfigJSON: []byte(cfgJSON),
	}
	if !reflect.DeepEqual(spec, want) {
		t.Errorf("spec\n%+v\nwant\n%+v", spec, want)
	}
	spec.NICs[0].Socket, spec.NICs[0].Switch = "/run/net1/vm-1-0", "/run/net1/switch"
	spec.NICs[1].Socket, spec.NICs[1].Switch = "/run/net2/vm-1-1", "/run/net2/switch"
	args := strings.Join(qemuArgs(spec, "tcg", "/run/cfg.json"), " ")
	for _, part := range []string{
		"-machine pc,accel=tcg", "-m 256", "-smp 2", "-no-reboot",
		"-chardev file,id=console,path=" + want.Console + ",append=on",
		"-netdev dgram,id=net0,local.type=unix,local.path=/run/net1/vm-1-0,remote.type=unix,remote.path=/run/net1/switch", "-device vmxnet3,netdev=net0,mac=00:0c:29:aa:bb:cc",
		"-netdev dgram,id=net1,local.type=unix,local.path=/run/net2/vm-1-1,remote.type=unix,remote.path=/run/net2/switch", "-device e1000,netdev=net1,mac=00:0c:29:aa:bb:cd",
		"-drive file=" + want.Disks[0].Overlay + ",if=none,id=disk0,format=qcow2",
		"-fw_cfg name=opt/vic/config,file=/run/cfg.json",
	} {
		if !strings.Contains(args, part) {
			t.Errorf("QEMU args lack %q:\n%s", part, args)
		}
	}
}

func TestBuildLaunchSpec_GivenNoDeltaDisk_ThenItSaysWhatIsMissing(t *testing.T) {
	ds := t.TempDir()
	mustWrite(t, filepath.Join(ds, "a.iso"), "iso")
	devices := []types.BaseVirtualDevice{
		&types.VirtualCdrom{VirtualDevice: types.VirtualDevice{Backing: &types.VirtualCdromIsoBackingInfo{VirtualDeviceFileBackingInfo: types.VirtualDeviceFileBackingInfo{FileName: "[ds] a.iso"}}}},
	}
	_, err := buildLaunchSpec(vmConfig{Name: "x", Devices: devices}, datastoreDirs{"ds": ds})
	if err == nil || !strings.Contains(err.Error(), "no child delta disk") {
		t.Errorf("error %v, want it to name the missing child delta disk", err)
	}
}

func mustWrite(t *testing.T, path, text string) {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, []byte(text), 0o644); err != nil {
		t.Fatal(err)
	}
}

func TestQemuArgs_GivenCommasInNamesAndPaths_ThenTheyAreEscaped(t *testing.T) {
	spec := launchSpec{Name: "a,b", CPUs: 1, MemoryMB: 64, ISO: "/ds/x,y.iso", Console: "/ds/a,b/console.log", Disks: []diskSpec{{Overlay: "/ds/a,b/a,b.qcow2"}}}
	args := strings.Join(qemuArgs(spec, "tcg", ""), " ")
	for _, part := range []string{"-name vic-a,,b", "path=/ds/a,,b/console.log,append=on", "file=/ds/x,,y.iso,media=cdrom", "file=/ds/a,,b/a,,b.qcow2,if=none"} {
		if !strings.Contains(args, part) {
			t.Errorf("QEMU args lack %q:\n%s", part, args)
		}
	}
}

func TestBuildLaunchSpec_GivenAVolumeDisk_ThenItsFlatExtentIsARawDriveWithoutOverlay(t *testing.T) {
	ds := t.TempDir()
	mustWrite(t, filepath.Join(ds, "vch/bootstrap.iso"), "iso")
	mustWrite(t, filepath.Join(ds, "vch/images/d/d.vmdk"), "# Disk DescriptorFile\nRW 2048 FLAT \"d-flat.vmdk\" 0\n")
	mustWrite(t, filepath.Join(ds, "vch/volumes/data/data.vmdk"), "# Disk DescriptorFile\ncreateType=\"monolithicFlat\"\nRW 32768 FLAT \"data-flat.vmdk\" 0\n")
	// What the simulator's CreateVirtualDisk leaves: a placeholder, not a disk.
	mustWrite(t, filepath.Join(ds, "vch/other/other.vmdk"), "1024")
	file := func(name string) types.VirtualDeviceFileBackingInfo {
		return types.VirtualDeviceFileBackingInfo{FileName: name}
	}
	devices := []types.BaseVirtualDevice{
		&types.VirtualCdrom{VirtualDevice: types.VirtualDevice{Backing: &types.VirtualCdromIsoBackingInfo{VirtualDeviceFileBackingInfo: file("[ds] vch/bootstrap.iso")}}},
		&types.VirtualDisk{CapacityInKB: 4096, VirtualDevice: types.VirtualDevice{Backing: &types.VirtualDiskFlatVer2BackingInfo{
			VirtualDeviceFileBackingInfo: file("[ds] vch/containers/web/web.vmdk"),
			Parent:                       &types.VirtualDiskFlatVer2BackingInfo{VirtualDeviceFileBackingInfo: file("[ds] vch/images/d/d.vmdk")},
		}}},
		&types.VirtualDisk{CapacityInKB: 16384, VirtualDevice: types.VirtualDevice{Backing: &types.VirtualDiskFlatVer2BackingInfo{
			VirtualDeviceFileBackingInfo: file("[ds] vch/volumes/data/data.vmdk"), DiskMode: "independent_persistent",
		}}},
		&types.VirtualDisk{CapacityInKB: 1024, VirtualDevice: types.VirtualDevice{Backing: &types.VirtualDiskFlatVer2BackingInfo{
			VirtualDeviceFileBackingInfo: file("[ds] vch/other/other.vmdk"),
		}}},
	}
	spec, err := buildLaunchSpec(vmConfig{Name: "web-1", Devices: devices}, datastoreDirs{"ds": ds})
	if err != nil {
		t.Fatal(err)
	}
	raw := filepath.Join(ds, "vch/volumes/data/data-flat.vmdk")
	if len(spec.Disks) != 2 || spec.Disks[1] != (diskSpec{Raw: raw}) {
		t.Fatalf("disks %+v, want the child disk and the volume's raw extent", spec.Disks)
	}
	args := strings.Join(qemuArgs(spec, "tcg", ""), " ")
	for _, part := range []string{"-drive file=" + raw + ",if=none,id=disk1,format=raw", "-device scsi-hd,drive=disk1,bus=pvscsi0.0,scsi-id=1"} {
		if !strings.Contains(args, part) {
			t.Errorf("QEMU args lack %q:\n%s", part, args)
		}
	}
}

func TestBuildLaunchSpec_GivenAReadOnlyVolume_ThenItsRawDriveIsASnapshotThatOtherReadersShare(t *testing.T) {
	ds := t.TempDir()
	mustWrite(t, filepath.Join(ds, "vch/volumes/data/data.vmdk"), "# Disk DescriptorFile\ncreateType=\"monolithicFlat\"\nRW 32768 FLAT \"data-flat.vmdk\" 0\n")
	mustWrite(t, filepath.Join(ds, "vch/bootstrap.iso"), "iso")
	mustWrite(t, filepath.Join(ds, "vch/images/d/d.vmdk"), "# Disk DescriptorFile\nRW 2048 FLAT \"d-flat.vmdk\" 0\n")
	raw := filepath.Join(ds, "vch/volumes/data/data-flat.vmdk")
	for _, c := range []struct {
		mode          string
		nonpersistent bool
	}{{"independent_nonpersistent", true}, {"nonpersistent", true}, {"independent_persistent", false}, {"", false}} {
		devices := []types.BaseVirtualDevice{&types.VirtualCdrom{VirtualDevice: types.VirtualDevice{Backing: &types.VirtualCdromIsoBackingInfo{
			VirtualDeviceFileBackingInfo: types.VirtualDeviceFileBackingInfo{FileName: "[ds] vch/bootstrap.iso"},
		}}}, &types.VirtualDisk{CapacityInKB: 4096, VirtualDevice: types.VirtualDevice{Backing: &types.VirtualDiskFlatVer2BackingInfo{
			VirtualDeviceFileBackingInfo: types.VirtualDeviceFileBackingInfo{FileName: "[ds] vch/containers/r/r.vmdk"},
			Parent:                       &types.VirtualDiskFlatVer2BackingInfo{VirtualDeviceFileBackingInfo: types.VirtualDeviceFileBackingInfo{FileName: "[ds] vch/images/d/d.vmdk"}},
		}}}, &types.VirtualDisk{CapacityInKB: 16384, VirtualDevice: types.VirtualDevice{Backing: &types.VirtualDiskFlatVer2BackingInfo{
			VirtualDeviceFileBackingInfo: types.VirtualDeviceFileBackingInfo{FileName: "[ds] vch/volumes/data/data.vmdk"}, DiskMode: c.mode,
		}}}}
		spec, err := buildLaunchSpec(vmConfig{Name: "reader", Devices: devices}, datastoreDirs{"ds": ds})
		if err != nil {
			t.Fatal(err)
		}
		if len(spec.Disks) != 2 || spec.Disks[1] != (diskSpec{Raw: raw, Nonpersistent: c.nonpersistent}) {
			t.Fatalf("mode %q: disks %+v", c.mode, spec.Disks)
		}
		args := strings.Join(qemuArgs(spec, "tcg", ""), " ")
		drive := "-drive file=" + raw + ",if=none,id=disk1,format=raw"
		if c.nonpersistent {
			drive += ",snapshot=on"
		}
		if !strings.Contains(args, drive+" ") {
			t.Errorf("mode %q: QEMU args lack %q:\n%s", c.mode, drive, args)
		}
	}
}

func TestExtendFlatDisk_GivenAVolume_ThenTheExtentAndTheDescriptorGrowAndAShrinkIsRefused(t *testing.T) {
	dir := t.TempDir()
	descriptor, extent := filepath.Join(dir, "data.vmdk"), filepath.Join(dir, "data-flat.vmdk")
	mustWrite(t, descriptor, "# Disk DescriptorFile\ncreateType=\"monolithicFlat\"\n\nRW 2048 FLAT \"data-flat.vmdk\" 0\n\nddb.adapterType = \"lsilogic\"\n")
	mustWrite(t, extent, strings.Repeat("x", 2048*512))
	if err := extendFlatDisk(descriptor, extent, 4096*512); err != nil {
		t.Fatal(err)
	}
	info, _ := os.Stat(extent)
	text, _ := os.ReadFile(descriptor)
	if info.Size() != 4096*512 || !strings.Contains(string(text), "RW 4096 FLAT \"data-flat.vmdk\" 0\n") || !strings.Contains(string(text), "ddb.adapterType") {
		t.Errorf("extent %d bytes, descriptor:\n%s", info.Size(), text)
	}
	if got, _ := flatExtent(descriptor); got != extent {
		t.Errorf("the grown descriptor names %q", got)
	}
	if err := extendFlatDisk(descriptor, extent, 1024*512); err == nil {
		t.Error("a shrink was accepted")
	}
}
