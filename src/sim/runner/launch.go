package runner

import (
	"bufio"
	"bytes"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"

	"github.com/vmware/govmomi/vim25/types"
)

// Extra config keys the runner reads and writes. "vic.owner" marks the VMs vic-iac made; only
// those run. The guest config and the status keys are the ones the tether uses under vSphere.
const (
	ownerKey       = "vic.owner"
	ownerValue     = "vic-iac"
	guestConfigKey = "guestinfo.vic.config"
	// The image's exposed ports ("80/tcp,53/udp"), written by the container_vm resource; the runner
	// publishes each on a free port of 127.0.0.1 and writes where into publishedKey.
	exposedPortsKey = "vic.exposed_ports"
	publishedKey    = "vic.published_ports"
	// publishedAtKey dates publishedKey's ports (RFC 3339, the host's clock): a process that ended
	// before then (its status exited, finished_at earlier) was an earlier run's, and these are the
	// ports of the run now starting.
	publishedAtKey = "vic.published_at"
	// portBindingsKey holds the ports the user asked to publish (docker run -p, container_vm's
	// ports): "80/tcp=0.0.0.0:8080,53/udp=127.0.0.1:0", a host port of 0 meaning any free one.
	portBindingsKey = "vic.port_bindings"
	// queuedKey is set while a powered-on VM's guest waits for a free slot (Options.MaxRunning, its
	// value); clients show it rather than leave the wait silent.
	queuedKey     = "vic.guest_queued"
	statusKeyBase = "guestinfo.vic."
	// maintenanceKey asks for a maintenance boot (docker cp of a stopped container, docs/guest-
	// config.md): a token the client sets before the power-on. The runner takes it at the start
	// (the key goes), tells the tether in its config, and writes the token back into
	// maintenanceReadyKey once the tether serves docker cp.
	maintenanceKey      = "guestinfo.vic.maintenance"
	maintenanceReadyKey = "guestinfo.vic.maintenance_ready"
)

// vmConfig is what the runner needs from a VM's config, copied under the VM's lock.
type vmConfig struct {
	Name        string
	UUID        string
	NumCPU      int32
	MemoryMB    int32
	ExtraConfig map[string]string
	Devices     []types.BaseVirtualDevice
}

// launchSpec is one QEMU process: everything resolved to local files.
type launchSpec struct {
	Name       string
	UUID       string
	CPUs       int
	MemoryMB   int
	ISO        string
	Disks      []diskSpec
	Console    string // serial port file, appended to; empty: none
	NICs       []nicSpec
	Exposed    []exposedPort
	Bindings   []published
	ConfigJSON []byte // the guest config, delivered over fw_cfg; nil: none
	// Maintenance is the token of a maintenance boot (maintenanceKey), "" for a normal one.
	Maintenance string
	// Boot, when set, is the ISO's kernel, initrd and command line, loaded by QEMU directly.
	Boot *kernelBoot
}

type diskSpec struct {
	Overlay       string // qcow2 in the VM's directory; keeps the container's writes
	BackingExtent string // the parent's flat extent (raw)
	SizeBytes     int64
	// Raw is the flat extent of an independent disk (a volume), written in place: no overlay, its
	// data outlives the VM. Overlay and BackingExtent are empty then.
	Raw string
	// Nonpersistent: Raw is opened read-only, shared with other readers, and the guest's writes go
	// to a scratch overlay QEMU drops when it exits, as vSphere's independent-nonpersistent mode
	// opens a disk under a reader lock and discards its redo log at power-off. A persistent Raw
	// takes QEMU's write lock, which no reader shares: QEMU's own image locking then refuses what
	// vSphere's disk locks refuse.
	Nonpersistent bool
}

type nicSpec struct {
	Model string // QEMU device: vmxnet3, e1000, e1000e or virtio-net-pci
	MAC   string
	// PortGroup names the network the NIC is on: the guests of one port group share a segment.
	PortGroup string
	// Socket is where the NIC's end binds, Switch the port group's switch (network.go).
	Socket, Switch string
}

// portGroupOf names a NIC's network as vSphere does: a standard port group by name, a
// distributed one by its key.
func portGroupOf(card *types.VirtualEthernetCard) string {
	switch b := card.Backing.(type) {
	case *types.VirtualEthernetCardNetworkBackingInfo:
		return b.DeviceName
	case *types.VirtualEthernetCardDistributedVirtualPortBackingInfo:
		return b.Port.PortgroupKey
	case *types.VirtualEthernetCardOpaqueNetworkBackingInfo:
		return b.OpaqueNetworkId
	}
	return "(no backing)"
}

type exposedPort struct {
	Proto string // tcp or udp
	Port  int
}

// published is a container port with the host address and port it got for this run (or, as a
// binding asked for, the one it must get: HostPort 0 is any free one).
type published struct {
	exposedPort
	HostIP   string
	HostPort int
}

func (p published) String() string {
	return fmt.Sprintf("%d/%s=%s:%d", p.Port, p.Proto, p.hostIP(), p.HostPort)
}

func (p published) hostIP() string {
	if p.HostIP == "" {
		return "127.0.0.1"
	}
	return p.HostIP
}

// parsePortBindings reads portBindingsKey's value; malformed entries are skipped (the
// container_vm resource checks them at plan time).
func parsePortBindings(text string) []published {
	var out []published
	for _, entry := range strings.Split(text, ",") {
		port, host, ok := strings.Cut(strings.TrimSpace(entry), "=")
		if !ok {
			continue
		}
		exposed := parseExposedPorts(port)
		ip, hostPort, found := strings.Cut(host, ":")
		n, err := strconv.Atoi(hostPort)
		if len(exposed) != 1 || !found || err != nil || n < 0 || n > 65535 || net.ParseIP(ip).To4() == nil {
			continue
		}
		out = append(out, published{exposedPort: exposed[0], HostIP: ip, HostPort: n})
	}
	return out
}

// portsToPublish are the bindings asked for, then the image's exposed ports no binding names, each
// on any free port of 127.0.0.1 (the simulator's own publishing, docs/runner.md).
func portsToPublish(exposed []exposedPort, bindings []published) []published {
	out := append([]published(nil), bindings...)
	bound := map[exposedPort]bool{}
	for _, b := range bindings {
		bound[b.exposedPort] = true
	}
	for _, e := range exposed {
		if !bound[e] {
			out = append(out, published{exposedPort: e, HostIP: "127.0.0.1"})
		}
	}
	return out
}

// parseExposedPorts reads "80/tcp,53/udp" (a bare number is TCP); malformed entries are skipped.
func parseExposedPorts(text string) []exposedPort {
	var ports []exposedPort
	for _, entry := range strings.Split(text, ",") {
		number, proto, _ := strings.Cut(strings.TrimSpace(entry), "/")
		if proto == "" {
			proto = "tcp"
		}
		port, err := strconv.Atoi(number)
		if err != nil || port < 1 || port > 65535 || (proto != "tcp" && proto != "udp") {
			continue
		}
		ports = append(ports, exposedPort{Proto: proto, Port: port})
	}
	return ports
}

func nicModel(card types.BaseVirtualEthernetCard) string {
	switch card.(type) {
	case *types.VirtualVmxnet3:
		return "vmxnet3"
	case *types.VirtualE1000:
		return "e1000"
	case *types.VirtualE1000e:
		return "e1000e"
	}
	return "virtio-net-pci"
}

// datastoreDirs maps a datastore name to its local directory.
type datastoreDirs map[string]string

var datastorePathPattern = regexp.MustCompile(`^\[([^\]]+)\]\s*(.*)$`)

// localPath turns "[ds] dir/file" into the file under the datastore's local directory.
func (d datastoreDirs) localPath(dsPath string) (string, error) {
	m := datastorePathPattern.FindStringSubmatch(strings.TrimSpace(dsPath))
	if m == nil {
		return "", fmt.Errorf("%q is not a datastore path ([datastore] dir/file)", dsPath)
	}
	dir, ok := d[m[1]]
	if !ok {
		return "", fmt.Errorf("datastore %q of %q is not in the simulator", m[1], dsPath)
	}
	rel := filepath.Clean("/" + m[2])
	return filepath.Join(dir, rel), nil
}

var extentPattern = regexp.MustCompile(`^\s*(?:RW|RDONLY)\s+\d+\s+(?:FLAT|VMFS)\s+"([^"]+)"`)

// flatExtent reads a monolithicFlat VMDK descriptor and returns the path of its extent.
func flatExtent(descriptor string) (string, error) {
	f, err := os.Open(descriptor)
	if err != nil {
		return "", fmt.Errorf("the parent disk descriptor: %v", err)
	}
	defer f.Close()
	// A descriptor is a few hundred bytes; a large file here is a flat extent named by mistake.
	scanner := bufio.NewScanner(io.LimitReader(f, 64*1024))
	for scanner.Scan() {
		if m := extentPattern.FindStringSubmatch(scanner.Text()); m != nil {
			extent := m[1]
			if !filepath.IsAbs(extent) {
				extent = filepath.Join(filepath.Dir(descriptor), extent)
			}
			return extent, nil
		}
	}
	return "", fmt.Errorf("the parent disk descriptor %s names no FLAT extent (only monolithicFlat parents can run)", descriptor)
}

// buildLaunchSpec resolves the VM's devices to local files, as ESXi would open them.
func buildLaunchSpec(cfg vmConfig, dirs datastoreDirs) (launchSpec, error) {
	spec := launchSpec{Name: cfg.Name, UUID: cfg.UUID, CPUs: int(cfg.NumCPU), MemoryMB: int(cfg.MemoryMB)}
	if spec.CPUs < 1 {
		spec.CPUs = 1
	}
	if spec.MemoryMB < 16 {
		spec.MemoryMB = 16
	}
	var err error
	for _, device := range cfg.Devices {
		switch d := device.(type) {
		case *types.VirtualCdrom:
			iso, ok := d.Backing.(*types.VirtualCdromIsoBackingInfo)
			if !ok || spec.ISO != "" {
				continue
			}
			if spec.ISO, err = dirs.localPath(iso.FileName); err != nil {
				return spec, fmt.Errorf("the CD-ROM: %v", err)
			}
		case *types.VirtualDisk:
			backing, ok := d.Backing.(*types.VirtualDiskFlatVer2BackingInfo)
			if !ok {
				continue
			}
			if backing.Parent == nil {
				// A disk of its own: one written as a monolithicFlat descriptor (a volume) runs as
				// its raw extent; the simulator's empty placeholder files for plain disks do not run.
				descriptor, err := dirs.localPath(backing.FileName)
				if err != nil {
					continue
				}
				if extent, err := flatExtent(descriptor); err == nil {
					spec.Disks = append(spec.Disks, diskSpec{Raw: extent, Nonpersistent: isNonpersistent(backing.DiskMode)})
				}
				continue
			}
			parent, err := dirs.localPath(backing.Parent.FileName)
			if err != nil {
				return spec, fmt.Errorf("the parent of disk %s: %v", backing.FileName, err)
			}
			extent, err := flatExtent(parent)
			if err != nil {
				return spec, err
			}
			child, err := dirs.localPath(backing.FileName)
			if err != nil {
				return spec, fmt.Errorf("disk %s: %v", backing.FileName, err)
			}
			size := d.CapacityInBytes
			if size == 0 {
				size = d.CapacityInKB * 1024
			}
			overlay := strings.TrimSuffix(child, filepath.Ext(child)) + ".qcow2"
			spec.Disks = append(spec.Disks, diskSpec{Overlay: overlay, BackingExtent: extent, SizeBytes: size})
		case types.BaseVirtualEthernetCard:
			card := d.GetVirtualEthernetCard()
			spec.NICs = append(spec.NICs, nicSpec{Model: nicModel(d), MAC: card.MacAddress, PortGroup: portGroupOf(card)})
		case *types.VirtualSerialPort:
			file, ok := d.Backing.(*types.VirtualSerialPortFileBackingInfo)
			if !ok || spec.Console != "" {
				continue
			}
			if spec.Console, err = dirs.localPath(file.FileName); err != nil {
				return spec, fmt.Errorf("the serial port: %v", err)
			}
		}
	}
	if spec.ISO == "" {
		return spec, fmt.Errorf("the VM has no CD-ROM with an ISO: nothing to boot")
	}
	if _, err := os.Stat(spec.ISO); err != nil {
		return spec, fmt.Errorf("the CD-ROM's ISO: %v", err)
	}
	hasChild := false
	for _, d := range spec.Disks {
		hasChild = hasChild || d.Overlay != ""
	}
	if !hasChild {
		return spec, fmt.Errorf("the VM has no child delta disk (a disk with a parent): no container filesystem")
	}
	spec.Exposed = parseExposedPorts(cfg.ExtraConfig[exposedPortsKey])
	spec.Bindings = parsePortBindings(cfg.ExtraConfig[portBindingsKey])
	if value, ok := cfg.ExtraConfig[guestConfigKey]; ok {
		raw, err := base64.StdEncoding.DecodeString(strings.TrimSpace(value))
		if err != nil {
			return spec, fmt.Errorf("extraConfig %s is not base64: %v", guestConfigKey, err)
		}
		spec.ConfigJSON = raw
	}
	if token := maintenanceToken(cfg.ExtraConfig); token != "" {
		// A maintenance boot runs no process: nothing of it is published, and no host port the
		// container asks for is held while it runs.
		spec.Maintenance, spec.Exposed, spec.Bindings = token, nil, nil
		if spec.ConfigJSON != nil {
			if spec.ConfigJSON, err = withMaintenance(spec.ConfigJSON); err != nil {
				return spec, err
			}
		}
	}
	return spec, nil
}

// maintenanceToken is the VM's maintenance request, "" when there is none.
func maintenanceToken(extraConfig map[string]string) string {
	return strings.TrimSpace(extraConfig[maintenanceKey])
}

// withMaintenance adds "maintenance": true to the guest config, which the tether reads as a
// maintenance boot; the rest of the document stays as the container_vm resource wrote it. A config
// that is not a JSON object is refused: the tether would fail on it and report that as the
// container's end, which a maintenance boot must never do.
func withMaintenance(raw []byte) ([]byte, error) {
	var doc map[string]json.RawMessage
	if err := json.Unmarshal(raw, &doc); err != nil || doc == nil {
		return nil, fmt.Errorf("extraConfig %s is not a JSON object: it cannot be marked for a maintenance boot", guestConfigKey)
	}
	doc["maintenance"] = json.RawMessage("true")
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(doc); err != nil {
		return nil, err
	}
	return bytes.TrimRight(b.Bytes(), "\n"), nil
}

// qemuArgs is the QEMU command line for a spec. The status channel is the second serial port,
// on QEMU's stdout, which the runner reads. Published ports are not here: they go in through the
// network of the first NIC's port group (network.go).
func qemuArgs(spec launchSpec, accel, configFile string) []string {
	machine := "pc,accel=" + accel
	args := []string{
		"-name", "vic-" + qemuValue(spec.Name),
		"-machine", machine,
		"-m", strconv.Itoa(spec.MemoryMB),
		"-smp", strconv.Itoa(spec.CPUs),
		"-nodefaults", "-no-user-config", "-display", "none", "-monitor", "none",
		// A guest that reboots (the tether died: panic=5) is a guest that stopped.
		"-no-reboot",
	}
	if accel == "kvm" {
		args = append(args, "-cpu", "host")
	}
	if spec.UUID != "" {
		args = append(args, "-uuid", spec.UUID)
	}
	if spec.Console != "" {
		// vSphere appends to a file-backed serial port across power cycles.
		args = append(args, "-chardev", "file,id=console,path="+qemuValue(spec.Console)+",append=on")
	} else {
		args = append(args, "-chardev", "null,id=console")
	}
	args = append(args,
		"-serial", "chardev:console",
		"-chardev", "stdio,id=status,signal=off",
		"-serial", "chardev:status",
		"-drive", "file="+qemuValue(spec.ISO)+",media=cdrom,if=ide,index=2,readonly=on,format=raw",
		"-boot", "order=d",
		"-device", "pvscsi,id=pvscsi0",
	)
	if spec.Boot != nil {
		// no_timer_check: under TCG on a busy host the kernel's early check of the IO-APIC timer
		// can miss its ticks and panic ("IO-APIC + timer doesn't work"); the timer is QEMU's own.
		args = append(args, "-kernel", spec.Boot.Kernel, "-initrd", spec.Boot.Initrd, "-append", strings.TrimSpace(spec.Boot.Append+" no_timer_check"))
	}
	// Each NIC joins its port group's segment, where the port group's network answers DHCP.
	if len(spec.NICs) == 0 {
		args = append(args, "-nic", "none")
	}
	for i, nic := range spec.NICs {
		id := "net" + strconv.Itoa(i)
		netdev := "dgram,id=" + id + ",local.type=unix,local.path=" + qemuValue(nic.Socket) + ",remote.type=unix,remote.path=" + qemuValue(nic.Switch)
		device := nic.Model + ",netdev=" + id
		if nic.MAC != "" {
			device += ",mac=" + nic.MAC
		}
		args = append(args, "-netdev", netdev, "-device", device)
	}
	for i, d := range spec.Disks {
		id := "disk" + strconv.Itoa(i)
		drive := "file=" + qemuValue(d.Overlay) + ",if=none,id=" + id + ",format=qcow2"
		if d.Raw != "" {
			drive = "file=" + qemuValue(d.Raw) + ",if=none,id=" + id + ",format=raw"
			if d.Nonpersistent {
				drive += ",snapshot=on"
			}
		}
		args = append(args,
			"-drive", drive,
			"-device", "scsi-hd,drive="+id+",bus=pvscsi0.0,scsi-id="+strconv.Itoa(i),
		)
	}
	if configFile != "" {
		args = append(args, "-fw_cfg", "name=opt/vic/config,file="+qemuValue(configFile))
	}
	return args
}

// isNonpersistent tells vSphere's disk modes whose writes are discarded at power-off.
func isNonpersistent(mode string) bool {
	return mode == string(types.VirtualDiskModeIndependent_nonpersistent) || mode == string(types.VirtualDiskModeNonpersistent)
}

// qemuValue escapes a value inside a QEMU option list, where a comma separates options: a VM
// named "web,1" lives in a directory of that name.
func qemuValue(v string) string { return strings.ReplaceAll(v, ",", ",,") }
