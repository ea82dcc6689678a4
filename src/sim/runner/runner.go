// Package runner makes the vSphere simulator run container VMs for real: when a VM that
// vic-iac made is powered on, it starts qemu-system-x86_64 with the VM's own ISO, disks, guest
// config and serial file, and when the guest powers off, the VM's power state follows.
//
// It lives inside the simulator's process (the vcsim launcher) because it must see and change
// the simulator's model: it watches power state changes through a registry handler, as a
// property collector does, and it flips runtime.powerState itself. No QEMU process outlives its
// VM or the launcher: a power-off, reset or destroy stops it, Close stops them all, and each
// QEMU gets SIGKILL from the kernel if the launcher dies without Close (PR_SET_PDEATHSIG).
package runner

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/vmware/govmomi/simulator"
	"github.com/vmware/govmomi/vim25/mo"
	"github.com/vmware/govmomi/vim25/types"
)

// Options configure a Runner.
type Options struct {
	// MaxRunning bounds the QEMU processes at once; more powered-on VMs wait in a queue.
	MaxRunning int
	// Accel is "auto" (KVM when /dev/kvm is usable, else TCG), "kvm" or "tcg".
	Accel string
	// Qemu and QemuImg are the programs; names are looked up in PATH.
	Qemu, QemuImg string
	// StateDir holds the guest config files handed to QEMU (they may carry secrets: 0700). The
	// runner owns it: Close removes it.
	StateDir string
	// ISOBoot boots each guest's ISO through the firmware and its boot loader, as ESXi does,
	// instead of loading the ISO's kernel and initrd directly (isoboot.go): slower, for tests of
	// the ISO itself.
	ISOBoot bool
	// Logf reports what the runner does; nil is silent.
	Logf func(format string, args ...any)
}

// Guest states, as the control API shows them.
const (
	stateQueued   = "queued"
	stateStarting = "starting"
	stateRunning  = "running"
	stateStopping = "stopping"
)

// How long QEMU gets to close its disks after SIGTERM before SIGKILL.
const stopGrace = 3 * time.Second

// The periodic full look catches what no update announced (none is known; it is cheap).
const rescanInterval = 2 * time.Second

type guest struct {
	ref          types.ManagedObjectReference
	name         string
	boot         time.Time
	state        string
	cmd          *exec.Cmd
	pid          int
	stopping     bool
	exitReported bool
	startedAt    time.Time
	exited       chan struct{}
	stderr       *tail
	status       io.ReadCloser
	ports        []published
	// portsReserved: ports came from ReservePorts, at the power-on, and start publishes them.
	portsReserved bool
	// bindings are the host ports the user asked for (portBindingsKey), which never move.
	bindings []published
	// queuedShown: the VM's queuedKey says that it waits for a slot.
	queuedShown bool
	// segments are the networks of its NICs, in order; the first one carries the published ports,
	// forwarded once the guest reports an address on it.
	segments []*segment
	sockets  []string
	// forwarding is set once the guest reported an address (under Runner.mu); forwarded lists the
	// ports whose host forwarding is in place, to withdraw when the guest ends.
	forwarding bool
	forwarded  []published
	ended      bool      // its QEMU ended (under Runner.mu)
	cpu        cpuSample // its QEMU's CPU time at the last quick stats (under Runner.mu)
	signals    signalChannel
	// processStarted: the tether reported a process running (under Runner.mu); input waits for it.
	processStarted bool
	// maintenance is the token of a maintenance boot (maintenanceKey), "" for a normal one; set at
	// the start, before anything can fail. maintenanceReady: the tether said it serves docker cp,
	// and input (its exec requests) goes to it as to a started process (both under Runner.mu).
	maintenance      string
	maintenanceReady bool
	// console: the VM's serial port file, where a boot that failed says why; startErr: why QEMU
	// could not be started at all.
	console  string
	startErr error
}

// Runner runs the guests of the simulator's powered-on vic VMs.
type Runner struct {
	opts  Options
	accel string
	self  types.ManagedObjectReference
	// Puts the simulator's own VirtualDiskManager back (see extend.go).
	restoreDiskManager func()

	pokeMu  sync.Mutex
	pending map[types.ManagedObjectReference]bool
	wake    chan struct{}

	nets  *networks
	boots *bootCache

	mu      sync.Mutex
	guests  map[types.ManagedObjectReference]*guest
	queue   []*guest
	running int
	closed  bool
	// reserved holds the host ports ReservePorts picked at a VM's power-on, until its guest takes
	// them (reconcile).
	reserved map[types.ManagedObjectReference][]published

	done     chan struct{}
	loopDone chan struct{}
}

// Start checks the programs, picks the accelerator and starts watching the model.
func Start(opts Options) (*Runner, error) {
	if opts.MaxRunning < 1 {
		return nil, fmt.Errorf("the guest runner needs at least 1 concurrent guest, got %d", opts.MaxRunning)
	}
	var err error
	if opts.Qemu, err = exec.LookPath(orDefault(opts.Qemu, "qemu-system-x86_64")); err != nil {
		return nil, fmt.Errorf("running guests needs qemu-system-x86_64 (apt-get install qemu-system-x86), or turn running off: %v", err)
	}
	if opts.QemuImg, err = exec.LookPath(orDefault(opts.QemuImg, "qemu-img")); err != nil {
		return nil, fmt.Errorf("running guests needs qemu-img (apt-get install qemu-utils), or turn running off: %v", err)
	}
	accel, why, err := chooseAccel(opts.Accel, opts.Qemu)
	if err != nil {
		return nil, err
	}
	if opts.StateDir == "" {
		if opts.StateDir, err = os.MkdirTemp("", "vic-runner-"); err != nil {
			return nil, err
		}
	} else if err := os.MkdirAll(opts.StateDir, 0o700); err != nil {
		return nil, err
	}
	if opts.Logf == nil {
		opts.Logf = func(string, ...any) {}
	}
	r := &Runner{
		opts:     opts,
		accel:    accel,
		self:     types.ManagedObjectReference{Type: "VicGuestRunner", Value: "vic-guest-runner"},
		pending:  map[types.ManagedObjectReference]bool{},
		wake:     make(chan struct{}, 1),
		guests:   map[types.ManagedObjectReference]*guest{},
		reserved: map[types.ManagedObjectReference][]published{},
		done:     make(chan struct{}),
		loopDone: make(chan struct{}),
		nets:     newNetworks(opts.Qemu, opts.StateDir, opts.Logf),
		boots:    newBootCache(filepath.Join(opts.StateDir, "boot")),
	}
	simulator.Map.AddHandler(r)
	r.restoreDiskManager = installFlatDiskManager()
	go r.loop()
	opts.Logf("guest runner: %s, at most %d at once, %s (%s)", opts.Qemu, opts.MaxRunning, accel, why)
	return r, nil
}

func orDefault(s, d string) string {
	if s == "" {
		return d
	}
	return s
}

// chooseAccel resolves "auto": KVM only when /dev/kvm opens for read and write and a probe guest
// under KVM runs to its end, and not much slower than the same guest under TCG. Some hosts expose
// /dev/kvm but cannot run a vCPU (nested or emulated KVM that rejects the host's MSRs: QEMU aborts
// at once), or run one far slower than emulation does (a microVM whose KVM traps every exit: the
// probe takes over a second there, against 60-80 ms under TCG, and a container VM never boots).
func chooseAccel(want, qemu string) (string, string, error) {
	switch want {
	case "", "auto":
		accel, why := cachedAuto(accelCacheFile(), accelKey(qemu), func() (string, string) {
			kvm, kvmWhy := probeKVM(qemu)
			if kvmWhy != "" {
				return "tcg", "KVM not usable: " + kvmWhy
			}
			tcg, tcgErr := probeAccel(qemu, "tcg", probeTimeout)
			return decideAuto(tcg, tcgErr, kvm)
		})
		return accel, why, nil
	case "tcg":
		return "tcg", "asked for", nil
	case "kvm":
		if _, why := probeKVM(qemu); why != "" {
			return "", "", fmt.Errorf("accelerator kvm asked for, but KVM is not usable here (%s); use auto or tcg", why)
		}
		return "kvm", "asked for", nil
	}
	return "", "", fmt.Errorf("accelerator %q: use auto, kvm or tcg", want)
}

// decideAuto picks from the figures of probes that both ran (TCG's may have failed): KVM, unless it
// took over three times TCG's and over kvmFastEnough. It says why, for the runner's first log line.
func decideAuto(tcg time.Duration, tcgErr error, kvm time.Duration) (string, string) {
	switch {
	case tcgErr == nil && kvm > 3*tcg && kvm > kvmFastEnough:
		return "tcg", fmt.Sprintf("KVM slower than emulation here: a probe guest took %s under KVM, %s under TCG", kvm.Round(time.Millisecond), tcg.Round(time.Millisecond))
	}
	return "kvm", fmt.Sprintf("a probe guest took %s", kvm.Round(time.Millisecond))
}

// probeKVM is how long the probe guest takes under KVM, or why KVM is not usable.
func probeKVM(qemu string) (time.Duration, string) {
	f, err := os.OpenFile("/dev/kvm", os.O_RDWR, 0)
	if err != nil {
		return 0, err.Error()
	}
	f.Close()
	took, err := probeAccel(qemu, "kvm", probeTimeout)
	if err != nil {
		return 0, err.Error()
	}
	return took, ""
}

// probeBootSector is a boot sector that writes 1 to the isa-debug-exit port and halts: QEMU exits
// with status (1<<1)|1 = 3 once the firmware has booted it, and only then.
var probeBootSector = func() []byte {
	code := []byte{0xB0, 0x01, 0xE6, 0xF4, 0xF4, 0xEB, 0xFD} // mov al,1; out 0xf4,al; hlt; jmp $-1
	sector := make([]byte, 512)
	copy(sector, code)
	sector[510], sector[511] = 0x55, 0xAA
	return sector
}()

// probeAccel boots probeBootSector under the accelerator: how long QEMU took to its exit.
func probeAccel(qemu, accel string, timeout time.Duration) (time.Duration, error) {
	img, err := os.CreateTemp("", "vic-accel-probe-*.img")
	if err != nil {
		return 0, err
	}
	defer os.Remove(img.Name())
	if _, err := img.Write(probeBootSector); err != nil {
		img.Close()
		return 0, err
	}
	if err := img.Close(); err != nil {
		return 0, err
	}
	args := []string{"-machine", "pc,accel=" + accel}
	if accel == "kvm" {
		args = append(args, "-cpu", "host")
	}
	args = append(args, "-m", "16", "-nodefaults", "-no-user-config", "-display", "none", "-no-reboot",
		"-device", "isa-debug-exit,iobase=0xf4,iosize=0x04", "-drive", "file="+qemuValue(img.Name())+",format=raw,if=ide")
	probe := exec.Command(qemu, args...)
	var stderr tail
	probe.Stderr = &stderr
	probe.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
	began := time.Now()
	if err := probe.Start(); err != nil {
		return 0, err
	}
	ended := make(chan error, 1)
	go func() { ended <- probe.Wait() }()
	select {
	case err := <-ended:
		var exit *exec.ExitError
		if errors.As(err, &exit) && exit.ExitCode() == 3 {
			return time.Since(began), nil
		}
		return 0, fmt.Errorf("a probe guest under %s did not run to its end (%v)%s", accel, err, stderr.suffix())
	case <-time.After(timeout):
		_ = probe.Process.Kill()
		<-ended
		return 0, fmt.Errorf("a probe guest under %s did not end within %s", accel, timeout)
	}
}

// The probe guest ends in 60-80 ms under TCG on a shared 2-core machine, faster under a working KVM.
const (
	probeTimeout  = 5 * time.Second
	kvmFastEnough = 500 * time.Millisecond
)

// Accel is the accelerator guests run with.
func (r *Runner) Accel() string { return r.accel }

// Reference, PutObject, UpdateObject and RemoveObject make the runner a registry handler, told
// of every change in the model, like a property collector. They run inside the simulator's
// calls, sometimes under an object's lock, so they only note the VM and wake the loop.
func (r *Runner) Reference() types.ManagedObjectReference { return r.self }

func (r *Runner) PutObject(obj mo.Reference) {
	if ref := obj.Reference(); ref.Type == "VirtualMachine" {
		r.poke(ref)
	}
}

func (r *Runner) UpdateObject(_ *simulator.Context, obj mo.Reference, changes []types.PropertyChange) {
	ref := obj.Reference()
	if ref.Type != "VirtualMachine" {
		return
	}
	for _, c := range changes {
		if c.Name == "runtime.powerState" || c.Name == "summary.runtime.bootTime" || isExtraConfigChange(c.Name) {
			r.poke(ref)
			return
		}
	}
}

func (r *Runner) RemoveObject(_ *simulator.Context, ref types.ManagedObjectReference) {
	if ref.Type == "VirtualMachine" {
		r.poke(ref)
	}
}

func (r *Runner) poke(ref types.ManagedObjectReference) {
	r.pokeMu.Lock()
	r.pending[ref] = true
	r.pokeMu.Unlock()
	select {
	case r.wake <- struct{}{}:
	default:
	}
}

func (r *Runner) loop() {
	defer close(r.loopDone)
	ticker := time.NewTicker(rescanInterval)
	defer ticker.Stop()
	for {
		var refs []types.ManagedObjectReference
		select {
		case <-r.done:
			return
		case <-r.wake:
			r.pokeMu.Lock()
			for ref := range r.pending {
				refs = append(refs, ref)
			}
			r.pending = map[types.ManagedObjectReference]bool{}
			r.pokeMu.Unlock()
		case <-ticker.C:
			seen := map[types.ManagedObjectReference]bool{}
			for _, o := range simulator.Map.AllReference("VirtualMachine") {
				seen[o.Reference()] = true
			}
			r.mu.Lock()
			for ref := range r.guests {
				seen[ref] = true
			}
			r.mu.Unlock()
			for ref := range seen {
				refs = append(refs, ref)
			}
		}
		for _, ref := range refs {
			r.reconcile(ref)
		}
		r.startQueued()
		r.updateQuickStats()
	}
}

// observation is a VM's power as the model has it.
type observation struct {
	exists, ours, on bool
	boot             time.Time
	name             string
	signal           string
	input            []inputChunk
	bindings         []published
	maintenance      bool
}

func observe(ref types.ManagedObjectReference) observation {
	vm, ok := simulator.Map.Get(ref).(*simulator.VirtualMachine)
	if !ok {
		return observation{}
	}
	o := observation{exists: true}
	simulator.Map.WithLock(simulator.SpoofContext(), vm, func() {
		o.name = vm.Name
		o.on = vm.Runtime.PowerState == types.VirtualMachinePowerStatePoweredOn
		if vm.Summary.Runtime.BootTime != nil {
			o.boot = *vm.Summary.Runtime.BootTime
		}
		if vm.Config != nil {
			o.ours = extraConfigValue(vm.Config.ExtraConfig, ownerKey) == ownerValue
			o.signal = extraConfigValue(vm.Config.ExtraConfig, signalKey)
			o.input = pendingInput(vm.Config.ExtraConfig)
			o.bindings = parsePortBindings(extraConfigValue(vm.Config.ExtraConfig, portBindingsKey))
			o.maintenance = strings.TrimSpace(extraConfigValue(vm.Config.ExtraConfig, maintenanceKey)) != ""
		}
	})
	return o
}

// reconcile brings the VM's guest to what the model says: running while powered on with the
// same boot time, stopped otherwise (a reset changes the boot time: stop, then start again).
func (r *Runner) reconcile(ref types.ManagedObjectReference) {
	o := observe(ref)
	// Input keys passed on (or left from an earlier boot) go from the model once r.mu is let go.
	var done []string
	defer func() { dropInput(ref, done) }()
	want := o.exists && o.ours && o.on
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.closed {
		return
	}
	if !o.exists {
		delete(r.reserved, ref)
	}
	g := r.guests[ref]
	if g != nil && !g.stopping && (!want || !g.boot.Equal(o.boot)) {
		r.stopLocked(g)
		return
	}
	if g != nil && !g.stopping && g.state == stateRunning {
		r.forwardSignal(g, o.signal)
		done = r.forwardInput(g, o.input)
	}
	if want && g == nil {
		// A maintenance boot holds none of the host ports the container asks for (docker cp of a
		// stopped container must not keep a running one from its port).
		bindings := o.bindings
		if o.maintenance {
			bindings = nil
		}
		g = &guest{ref: ref, name: o.name, boot: o.boot, state: stateQueued, exited: make(chan struct{}), stderr: &tail{}, bindings: bindings}
		// The host ports picked at the power-on are this guest's from now on, while it waits for a
		// slot too: no other VM's power-on can be given them.
		if ports, ok := r.reserved[ref]; ok {
			g.ports, g.portsReserved = ports, true
			delete(r.reserved, ref)
		}
		r.guests[ref] = g
		r.queue = append(r.queue, g)
		// Clients send input once this boot's process has reported (docs/guest-config.md): what
		// is there now was meant for an earlier one.
		for _, c := range o.input {
			done = append(done, c.key)
		}
	}
}

func (r *Runner) stopLocked(g *guest) {
	g.stopping = true
	switch g.state {
	case stateQueued:
		for i, q := range r.queue {
			if q == g {
				r.queue = append(r.queue[:i], r.queue[i+1:]...)
				break
			}
		}
		delete(r.guests, g.ref)
		close(g.exited)
		if g.queuedShown {
			setExtraConfig(g.ref, map[string]string{queuedKey: ""})
		}
	case stateRunning:
		g.state = stateStopping
		r.opts.Logf("guest %s (%s): stopping QEMU pid %d", g.ref.Value, g.name, g.pid)
		process := g.cmd.Process
		_ = process.Signal(syscall.SIGTERM)
		go func() {
			select {
			case <-g.exited:
			case <-time.After(stopGrace):
				_ = process.Kill()
			}
		}()
	}
	// A starting guest sees g.stopping before it starts QEMU.
}

func (r *Runner) startQueued() {
	r.mu.Lock()
	defer r.mu.Unlock()
	for !r.closed && r.running < r.opts.MaxRunning && len(r.queue) > 0 {
		g := r.queue[0]
		r.queue = r.queue[1:]
		g.state = stateStarting
		r.running++
		go r.run(g)
	}
	// Those left wait for a slot: their VMs say so, where clients look (docs/runner.md).
	for _, g := range r.queue {
		if !g.queuedShown {
			g.queuedShown = true
			setExtraConfig(g.ref, map[string]string{queuedKey: strconv.Itoa(r.opts.MaxRunning)})
		}
	}
}

// run starts QEMU for the guest and waits for it.
func (r *Runner) run(g *guest) {
	// A name of this run's own: after a reset the next QEMU of this VM starts (from finish) before
	// this function's deferred remove runs, and must not lose its config to it.
	var configFile string
	f, err := os.CreateTemp(r.opts.StateDir, g.ref.Value+"-*.json")
	if err == nil {
		configFile = f.Name()
		_ = f.Close()
		defer os.Remove(configFile)
		err = r.start(g, configFile)
	}
	if err != nil {
		r.opts.Logf("guest %s (%s): cannot run: %v", g.ref.Value, g.name, err)
		g.startErr = err
		r.finish(g, nil, true)
		return
	}
	statusDone := make(chan struct{})
	go func() {
		defer close(statusDone)
		r.readStatus(g, g.status)
		_ = g.status.Close()
	}()
	waitErr := g.cmd.Wait()
	<-statusDone
	var state *os.ProcessState
	if g.cmd.ProcessState != nil {
		state = g.cmd.ProcessState
	}
	if waitErr != nil && state == nil {
		r.opts.Logf("guest %s (%s): waiting for QEMU: %v", g.ref.Value, g.name, waitErr)
	}
	r.finish(g, state, false)
}

func (r *Runner) start(g *guest, configFile string) error {
	vm, ok := simulator.Map.Get(g.ref).(*simulator.VirtualMachine)
	if !ok {
		return errors.New("the VM is gone")
	}
	dirs := datastoreLocalDirs()
	var spec launchSpec
	var err error
	maintenance := ""
	simulator.Map.WithLock(simulator.SpoofContext(), vm, func() {
		if vm.Config == nil {
			err = errors.New("the VM has no config")
			return
		}
		extraConfig := extraConfigMap(vm.Config.ExtraConfig)
		maintenance = maintenanceToken(extraConfig)
		spec, err = buildLaunchSpec(vmConfig{
			Name:        vm.Name,
			UUID:        vm.Config.Uuid,
			NumCPU:      vm.Config.Hardware.NumCPU,
			MemoryMB:    vm.Config.Hardware.MemoryMB,
			ExtraConfig: extraConfig,
			Devices:     vm.Config.Hardware.Device,
		}, dirs)
	})
	if maintenance != "" {
		// Known before anything can fail, so that no failure of this boot is written as the
		// container's end; the request is taken, so that a leftover can never make a later, normal
		// start a maintenance one.
		r.mu.Lock()
		g.maintenance = maintenance
		r.mu.Unlock()
		setExtraConfig(g.ref, map[string]string{maintenanceKey: ""})
		r.opts.Logf("guest %s (%s): maintenance boot (docker cp of a stopped container): its process does not run", g.ref.Value, g.name)
	}
	if err != nil {
		return err
	}
	g.console = spec.Console
	for _, d := range spec.Disks {
		if err := r.ensureOverlay(d); err != nil {
			return err
		}
	}
	if !r.opts.ISOBoot {
		if boot, err := r.boots.kernelBoot(spec.ISO); err != nil {
			r.opts.Logf("guest %s (%s): booting the ISO through its boot loader: its kernel cannot be loaded directly: %v", g.ref.Value, g.name, err)
		} else {
			if boot.NotUnpacked != "" {
				r.opts.Logf("guest %s (%s): booting the ISO's bzImage, whose own decompressor is slow under TCG: %s", g.ref.Value, g.name, boot.NotUnpacked)
			}
			spec.Boot = &boot
		}
	}
	if spec.ConfigJSON != nil {
		if err := os.WriteFile(configFile, spec.ConfigJSON, 0o600); err != nil {
			return err
		}
	} else {
		configFile = ""
	}
	// Published ports go in through the first NIC's network: a VM without a NIC publishes none.
	var ports []published
	r.mu.Lock()
	reserved, portsReserved := g.ports, g.portsReserved
	r.mu.Unlock()
	switch {
	case len(spec.NICs) == 0 || spec.Maintenance != "":
	case portsReserved:
		// Picked at the power-on and shown since (ReservePorts); one taken meanwhile by another
		// process moves when it is forwarded, as a freshly picked one would (forwardEach).
		ports = reserved
	default:
		if ports, err = pickHostPorts(portsToPublish(spec.Exposed, spec.Bindings)); err != nil {
			return err
		}
	}
	var segments []*segment
	var sockets []string
	started := false
	defer func() {
		if !started {
			r.nets.release(segments, sockets)
		}
	}()
	for i := range spec.NICs {
		s, err := r.nets.acquire(spec.NICs[i].PortGroup)
		if err != nil {
			return err
		}
		segments = append(segments, s)
		sockets = append(sockets, r.nets.plug(s, g.ref.Value, i))
		spec.NICs[i].Socket, spec.NICs[i].Switch = sockets[i], s.sw.path
	}
	cmd := exec.Command(r.opts.Qemu, qemuArgs(spec, r.accel, configFile)...)
	// Our own pipe, not StdoutPipe: Wait closes that one, possibly before the last status line
	// (the exit) is read.
	statusRead, statusWrite, err := os.Pipe()
	if err != nil {
		return err
	}
	defer statusWrite.Close()
	cmd.Stdout = statusWrite
	if err := g.signals.open(cmd, currentSignal(vm), func() { r.poke(g.ref) }); err != nil {
		statusRead.Close()
		return err
	}
	cmd.Stderr = g.stderr
	// The kernel kills QEMU if the launcher dies without stopping it (SIGKILL, a crash).
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL, Setpgid: true}
	r.mu.Lock()
	defer r.mu.Unlock()
	if g.stopping || r.closed {
		statusRead.Close()
		g.signals.close()
		return errors.New("powered off before QEMU started")
	}
	if err := cmd.Start(); err != nil {
		statusRead.Close()
		g.signals.close()
		return err
	}
	started = true
	g.signals.started()
	g.status = statusRead
	g.ports, g.bindings = ports, spec.Bindings
	g.segments, g.sockets = segments, sockets
	g.cmd, g.pid, g.state, g.startedAt = cmd, cmd.Process.Pid, stateRunning, time.Now()
	r.opts.Logf("guest %s (%s): QEMU pid %d (%s, %d CPU, %d MB, %d NIC)", g.ref.Value, g.name, g.pid, r.accel, spec.CPUs, spec.MemoryMB, len(spec.NICs))
	if spec.Maintenance != "" {
		// The published ports the VM shows are its last run's, as before the maintenance boot.
		setExtraConfig(g.ref, map[string]string{queuedKey: ""})
		return nil
	}
	fields := map[string]string{publishedKey: publishedText(ports), queuedKey: ""}
	if !portsReserved {
		fields[publishedAtKey] = time.Now().UTC().Format(time.RFC3339Nano)
	}
	setExtraConfig(g.ref, fields)
	return nil
}

// pickHostPorts gives each port to publish its host port: the one asked for, checked free (a port
// another process holds is refused as dockerd refuses it), or a free one of its host address.
// Another process may take a free one before QEMU binds it; forwardEach then moves it.
func pickHostPorts(wanted []published) ([]published, error) {
	out := make([]published, 0, len(wanted))
	for _, w := range wanted {
		port, err := bindable(w.Proto, w.hostIP(), w.HostPort)
		if err != nil {
			if w.HostPort != 0 {
				return nil, fmt.Errorf("Bind for %s:%d failed: port is already allocated", w.hostIP(), w.HostPort)
			}
			return nil, err
		}
		w.HostPort = port
		out = append(out, w)
	}
	return out, nil
}

// bindable binds proto on ip:port (port 0: any) for a moment, and says which port it got.
func bindable(proto, ip string, port int) (int, error) {
	address := net.JoinHostPort(ip, strconv.Itoa(port))
	if proto == "udp" {
		c, err := net.ListenPacket("udp", address)
		if err != nil {
			return 0, err
		}
		defer c.Close()
		return c.LocalAddr().(*net.UDPAddr).Port, nil
	}
	l, err := net.Listen("tcp", address)
	if err != nil {
		return 0, err
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port, nil
}

// ensureOverlay makes the qcow2 overlay of a child delta disk once; later power-ons reuse it,
// so the container's writes survive a stop and start, as on vSphere.
func (r *Runner) ensureOverlay(d diskSpec) error {
	if d.Raw != "" {
		return nil
	}
	if _, err := os.Stat(d.Overlay); err == nil {
		return nil
	}
	if _, err := os.Stat(d.BackingExtent); err != nil {
		return fmt.Errorf("the parent disk's extent: %v", err)
	}
	args := []string{"create", "-q", "-f", "qcow2", "-b", d.BackingExtent, "-F", "raw", d.Overlay}
	if st, err := os.Stat(d.BackingExtent); err == nil && d.SizeBytes > st.Size() {
		args = append(args, fmt.Sprint(d.SizeBytes))
	}
	if out, err := exec.Command(r.opts.QemuImg, args...).CombinedOutput(); err != nil {
		return fmt.Errorf("qemu-img create %s: %v: %s", d.Overlay, err, strings.TrimSpace(string(out)))
	}
	return nil
}

// readStatus copies the tether's status lines into the VM's extraConfig, where vSphere has them.
func (r *Runner) readStatus(g *guest, status io.Reader) {
	scanner := bufio.NewScanner(status)
	for scanner.Scan() {
		fields, ok := ParseStatusLine(scanner.Text())
		if !ok {
			continue
		}
		r.mu.Lock()
		maintenance := g.maintenance
		r.mu.Unlock()
		switch statusLineUse(fields, maintenance != "") {
		case statusIgnored:
			continue
		case statusMaintenanceReady:
			r.mu.Lock()
			first := !g.maintenanceReady
			g.maintenanceReady = true
			r.mu.Unlock()
			// The token and nothing else: the container's own keys stay as its last run left them.
			setExtraConfig(g.ref, map[string]string{maintenanceReadyKey: maintenance})
			if first {
				r.opts.Logf("guest %s (%s): maintenance boot ready for docker cp", g.ref.Value, g.name)
				// Exec requests that came while it booted go now.
				r.poke(g.ref)
			}
			continue
		}
		if fields["status"] == "exited" {
			r.mu.Lock()
			g.exitReported = true
			r.mu.Unlock()
		}
		first := false
		if fields["status"] == "running" {
			r.mu.Lock()
			first = !g.processStarted
			g.processStarted = true
			r.mu.Unlock()
		}
		setStatus(g.ref, fields)
		// Input that came while the guest booted goes now.
		if first {
			r.poke(g.ref)
		}
		r.forwardPorts(g, strings.Split(fields["ip_addresses"], ","))
	}
}

// statusUse is what a status line of the tether's does in the VM's extraConfig.
type statusUse int

const (
	// statusRecorded: the container's status, written as guestinfo.vic.<key> (setStatus).
	statusRecorded statusUse = iota
	// statusMaintenanceReady: a maintenance boot serves docker cp: maintenanceReadyKey only.
	statusMaintenanceReady
	// statusIgnored: nothing of it is written.
	statusIgnored
)

// statusLineUse decides what a status line does. A maintenance boot's lines never touch the
// container's keys (status, exit_code, started_at, finished_at, ip_addresses, input, exec): its
// recorded state must be what it was before; and a line that speaks of maintenance is a
// maintenance boot's, never recorded as the status of a guest that is not one.
func statusLineUse(fields map[string]string, maintenance bool) statusUse {
	switch {
	case maintenance && fields["maintenance"] == "ready":
		return statusMaintenanceReady
	case maintenance, fields["maintenance"] != "":
		return statusIgnored
	}
	return statusRecorded
}

// forwardPorts lets the host in to the published ports, through the first NIC's network, once
// the guest has an address there. The monitor work runs on its own, so that status lines keep
// flowing while it retries.
func (r *Runner) forwardPorts(g *guest, addresses []string) {
	r.mu.Lock()
	if g.forwarding || len(g.ports) == 0 || len(g.segments) == 0 {
		r.mu.Unlock()
		return
	}
	s := g.segments[0]
	ip := ""
	for _, a := range addresses {
		if s.contains(a) {
			ip = a
			break
		}
	}
	if ip == "" {
		r.mu.Unlock()
		return
	}
	g.forwarding = true
	ports := append([]published(nil), g.ports...)
	r.mu.Unlock()
	go r.forwardEach(g, s, ports, ip)
}

// Each published port gets a few tries: the monitor may not answer yet (a loaded host), and
// another process may have taken the host port between pickHostPorts and now, in which case the
// port moves to a free one and the VM's extraConfig says where.
const forwardTries = 8

func (r *Runner) forwardEach(g *guest, s *segment, ports []published, ip string) {
	moved := false
	for i := range ports {
		delay := 100 * time.Millisecond
		for try := 1; ; try++ {
			select {
			case <-g.exited:
				return
			default:
			}
			err := s.forward(ports[i], ip)
			if err == nil {
				r.mu.Lock()
				ended := g.ended
				if !ended {
					g.forwarded = append(g.forwarded, ports[i])
				}
				r.mu.Unlock()
				if ended {
					// finish has withdrawn the others already; this one would outlive the guest.
					_ = s.unforward(ports[i])
					return
				}
				break
			}
			if try == forwardTries {
				r.opts.Logf("guest %s (%s): cannot publish %s after %d tries: %v", g.ref.Value, g.name, ports[i], try, err)
				break
			}
			r.opts.Logf("guest %s (%s): publishing %s, try %d: %v", g.ref.Value, g.name, ports[i], try, err)
			// A port the user asked for stays: it is theirs or nothing (dockerd's -p does not move).
			if strings.Contains(strings.ToLower(err.Error()), "could not set up host forwarding rule") && !asked(ports[i], g.bindings) {
				if fresh, perr := pickHostPorts([]published{{exposedPort: ports[i].exposedPort, HostIP: ports[i].HostIP}}); perr == nil {
					ports[i] = fresh[0]
					moved = true
				}
			}
			time.Sleep(delay)
			if delay < 2*time.Second {
				delay *= 2
			}
		}
	}
	if !moved {
		return
	}
	r.mu.Lock()
	g.ports = ports
	r.mu.Unlock()
	setExtraConfig(g.ref, map[string]string{publishedKey: publishedText(ports)})
}

// finish records that the guest's QEMU ended. A guest that ended on its own (it powered off,
// or QEMU was killed from outside) powers the VM off in the model; a process that was running
// and whose end nobody reported was killed with its VM (exit code 137, as docker kill).
func (r *Runner) finish(g *guest, state *os.ProcessState, neverStarted bool) {
	r.mu.Lock()
	if g.state != stateQueued {
		r.running--
	}
	stoppedByUs := g.stopping
	exitReported := g.exitReported
	processStarted := g.processStarted
	queuedShown := g.queuedShown && neverStarted
	maintenance := g.maintenance
	g.ended = true
	r.mu.Unlock()
	if queuedShown {
		setExtraConfig(g.ref, map[string]string{queuedKey: ""})
	}
	if state != nil {
		r.opts.Logf("guest %s (%s): QEMU pid %d ended (%s)%s", g.ref.Value, g.name, g.pid, state, g.stderr.suffix())
	}
	// A maintenance boot writes nothing of the container's: it never ran the process, and its
	// end (the client's power-off, the tether's, QEMU killed) is not the container's.
	if !stoppedByUs && !processStarted && !exitReported && maintenance == "" {
		// The guest never ran its process (QEMU could not start, or ended before the tether said a
		// word): the container ended there, as a start that failed (exit code 125, as docker's own
		// failures), before the VM reads as off, so that nobody waits for a process that never comes.
		reason := "the guest ended before its process started"
		if g.startErr != nil {
			reason = "the guest could not be started: " + g.startErr.Error()
		} else if state != nil {
			reason = fmt.Sprintf("the guest's QEMU ended (%s) before its process started%s", state, g.stderr.suffix())
		}
		setStatus(g.ref, map[string]string{"status": "exited", "exit_code": strconv.Itoa(bootFailedExitCode), "finished_at": time.Now().UTC().Format(time.RFC3339Nano)})
		appendConsoleLine(g.console, "vic: the container VM did not boot: "+reason)
	}
	if !stoppedByUs {
		powerOffInModel(g.ref, g.boot)
	}
	if !exitReported && !neverStarted && maintenance == "" {
		markKilledIfRunning(g.ref)
	}
	if maintenance != "" {
		setExtraConfig(g.ref, map[string]string{maintenanceReadyKey: ""})
		// The request was taken at the start; one still there with another token is the client's
		// next maintenance boot, which must not become a normal start.
		clearExtraConfigIf(g.ref, maintenanceKey, maintenance)
		r.opts.Logf("guest %s (%s): maintenance boot ended", g.ref.Value, g.name)
	}
	clearQuickStats(g.ref)
	// After the model: the network may take a moment to go, and the VM is off already.
	r.mu.Lock()
	forwarded := g.forwarded
	r.mu.Unlock()
	if len(g.segments) > 0 {
		for _, p := range forwarded {
			if err := g.segments[0].unforward(p); err != nil {
				r.opts.Logf("guest %s (%s): cannot withdraw %s: %v", g.ref.Value, g.name, p, err)
			}
		}
	}
	r.nets.release(g.segments, g.sockets)
	// Only now may the VM's next guest start (a restart): the host ports this one published are
	// withdrawn, so the next one can take them again; meanwhile they count as the VM's own.
	r.mu.Lock()
	if r.guests[g.ref] == g {
		delete(r.guests, g.ref)
	}
	r.mu.Unlock()
	close(g.exited)
	g.signals.close()
	// Input for a process that is gone goes too.
	dropInput(g.ref, leftoverInput(g.ref))
	r.poke(g.ref)
}

// bootFailedExitCode is the exit code of a container whose VM never ran its process.
const bootFailedExitCode = 125

// appendConsoleLine adds a line to the VM's serial port file as the container's stderr (a
// `vic-stderr <time> <text>` frame, the tether's console protocol), where docker logs and vic logs
// read it; best effort.
func appendConsoleLine(path, line string) {
	if path == "" {
		return
	}
	f, err := os.OpenFile(path, os.O_APPEND|os.O_WRONLY|os.O_CREATE, 0o644)
	if err != nil {
		return
	}
	defer f.Close()
	text := strings.Join(strings.Fields(strings.ReplaceAll(line, "\n", " ")), " ")
	_, _ = fmt.Fprintf(f, "vic-stderr %s %s\r\n", time.Now().UTC().Format(time.RFC3339Nano), text)
}

// Close stops every guest (SIGTERM, then SIGKILL after a grace period) and waits for them.
func (r *Runner) Close() {
	r.mu.Lock()
	if r.closed {
		r.mu.Unlock()
		return
	}
	r.closed = true
	var waits []chan struct{}
	for _, g := range r.guests {
		if g.state == stateRunning || g.state == stateStarting || g.state == stateQueued {
			waits = append(waits, g.exited)
			r.stopLocked(g)
		}
	}
	r.mu.Unlock()
	close(r.done)
	<-r.loopDone
	simulator.Map.RemoveHandler(r)
	r.restoreDiskManager()
	defer os.RemoveAll(r.opts.StateDir)
	// The port groups' networks go once their guests are gone.
	defer r.nets.close()
	deadline := time.After(stopGrace + 2*time.Second)
	for _, w := range waits {
		select {
		case <-w:
		case <-deadline:
			r.opts.Logf("guest runner: a QEMU process did not end in time")
			return
		}
	}
}

// GuestInfo is one guest as the control API shows it.
type GuestInfo struct {
	VM        string `json:"vm"`
	Name      string `json:"name"`
	State     string `json:"state"`
	PID       int    `json:"pid,omitempty"`
	StartedAt string `json:"startedAt,omitempty"`
	// Ports maps each published port ("80/tcp") to where the host reaches it ("127.0.0.1:41234").
	Ports map[string]string `json:"ports,omitempty"`
	// Maintenance: a maintenance boot, serving docker cp of a stopped container.
	Maintenance bool `json:"maintenance,omitempty"`
}

// Networks lists the port groups' networks that have guests.
func (r *Runner) Networks() []NetworkInfo { return r.nets.list() }

// Guests lists the guests the runner holds: queued, starting, running or stopping.
func (r *Runner) Guests() []GuestInfo {
	r.mu.Lock()
	defer r.mu.Unlock()
	out := make([]GuestInfo, 0, len(r.guests))
	for _, g := range r.guests {
		info := GuestInfo{VM: g.ref.Value, Name: g.name, State: g.state, PID: g.pid, Maintenance: g.maintenance != ""}
		if !g.startedAt.IsZero() {
			info.StartedAt = g.startedAt.UTC().Format(time.RFC3339Nano)
		}
		for _, p := range g.ports {
			if info.Ports == nil {
				info.Ports = map[string]string{}
			}
			info.Ports[fmt.Sprintf("%d/%s", p.Port, p.Proto)] = fmt.Sprintf("127.0.0.1:%d", p.HostPort)
		}
		out = append(out, info)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].VM < out[j].VM })
	return out
}

// tail keeps the end of QEMU's stderr for the log line when it ends.
type tail struct {
	mu  sync.Mutex
	buf []byte
}

func (t *tail) Write(p []byte) (int, error) {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.buf = append(t.buf, p...)
	if len(t.buf) > 2048 {
		t.buf = t.buf[len(t.buf)-2048:]
	}
	return len(p), nil
}

func (t *tail) suffix() string {
	t.mu.Lock()
	defer t.mu.Unlock()
	if s := strings.TrimSpace(string(t.buf)); s != "" {
		return ": " + s
	}
	return ""
}

// asked says whether p is a binding the user asked for with a host port of their choosing.
func asked(p published, bindings []published) bool {
	for _, b := range bindings {
		if b.exposedPort == p.exposedPort && b.HostPort != 0 {
			return true
		}
	}
	return false
}

// PowerOnRefusal says why the VM cannot be powered on here, or "" when it can: a host port asked
// for (portBindingsKey) that another process, or another powered-on VM's binding, holds.
func (r *Runner) PowerOnRefusal(ref types.ManagedObjectReference) string {
	vm, ok := simulator.Map.Get(ref).(*simulator.VirtualMachine)
	if !ok {
		return ""
	}
	var asked []published
	simulator.Map.WithLock(simulator.SpoofContext(), vm, func() {
		// A maintenance boot publishes nothing (buildLaunchSpec): its ports cannot be in the way.
		if vm.Config != nil && vm.Runtime.PowerState != types.VirtualMachinePowerStatePoweredOn && strings.TrimSpace(extraConfigValue(vm.Config.ExtraConfig, maintenanceKey)) == "" {
			asked = parsePortBindings(extraConfigValue(vm.Config.ExtraConfig, portBindingsKey))
		}
	})
	held, own := r.heldBindings(ref)
	for _, a := range asked {
		// 0: any free port; one this VM's own guest still holds (a restart, its QEMU still
		// stopping): the new guest starts only once that one has ended and let it go.
		if a.HostPort == 0 || own[a] {
			continue
		}
		for _, h := range held {
			if h.Proto == a.Proto && h.HostPort == a.HostPort && (h.hostIP() == a.hostIP() || h.hostIP() == "0.0.0.0" || a.hostIP() == "0.0.0.0") {
				return fmt.Sprintf("Bind for %s:%d failed: port is already allocated (to VM %s)", a.hostIP(), a.HostPort, h.owner)
			}
		}
		if _, err := bindable(a.Proto, a.hostIP(), a.HostPort); err != nil {
			return fmt.Sprintf("Bind for %s:%d failed: port is already allocated", a.hostIP(), a.HostPort)
		}
	}
	return ""
}

// ReservePorts picks, at a VM's power-on (before the simulator carries out its PowerOnVM_Task), the
// host ports its guest will publish, and writes them into the VM's extraConfig (publishedKey): they
// are known when the task ends, as dockerd's are when its start returns, also while the guest waits
// for a slot. A maintenance boot publishes nothing, and the last run's ports go. Nothing is picked
// for a VM that is on already (its guest keeps its own), nor when a port cannot be had: the start
// then picks them, and fails, as before.
func (r *Runner) ReservePorts(ref types.ManagedObjectReference) {
	vm, ok := simulator.Map.Get(ref).(*simulator.VirtualMachine)
	if !ok {
		return
	}
	var wanted []published
	eligible := false
	simulator.Map.WithLock(simulator.SpoofContext(), vm, func() {
		if vm.Config == nil || vm.Runtime.PowerState == types.VirtualMachinePowerStatePoweredOn || extraConfigValue(vm.Config.ExtraConfig, ownerKey) != ownerValue {
			return
		}
		eligible = true
		if strings.TrimSpace(extraConfigValue(vm.Config.ExtraConfig, maintenanceKey)) != "" || !hasNIC(vm.Config.Hardware.Device) {
			return
		}
		wanted = portsToPublish(parseExposedPorts(extraConfigValue(vm.Config.ExtraConfig, exposedPortsKey)),
			parsePortBindings(extraConfigValue(vm.Config.ExtraConfig, portBindingsKey)))
	})
	if !eligible {
		return
	}
	ports, err := pickHostPorts(wanted)
	if err != nil {
		r.mu.Lock()
		delete(r.reserved, ref)
		r.mu.Unlock()
		r.opts.Logf("VM %s: the host ports to publish are picked at its guest's start: %v", ref.Value, err)
		return
	}
	r.mu.Lock()
	r.reserved[ref] = ports
	r.mu.Unlock()
	setExtraConfig(ref, map[string]string{publishedKey: publishedText(ports), publishedAtKey: time.Now().UTC().Format(time.RFC3339Nano)})
}

// hasNIC says whether a VM has a network card: published ports go in through the first one.
func hasNIC(devices []types.BaseVirtualDevice) bool {
	for _, d := range devices {
		if _, ok := d.(types.BaseVirtualEthernetCard); ok {
			return true
		}
	}
	return false
}

// publishedText is publishedKey's value: "80/tcp=127.0.0.1:41234,…".
func publishedText(ports []published) string {
	texts := make([]string, len(ports))
	for i, p := range ports {
		texts[i] = p.String()
	}
	return strings.Join(texts, ",")
}

// heldPort is a host port a guest other than the one asking holds or will hold.
type heldPort struct {
	published
	owner string
}

// heldBindings are the host ports the runner's other guests (queued or running) hold, and those
// the guest of VM `except` holds.
func (r *Runner) heldBindings(except types.ManagedObjectReference) ([]heldPort, map[published]bool) {
	r.mu.Lock()
	defer r.mu.Unlock()
	var out []heldPort
	own := map[published]bool{}
	for ref, g := range r.guests {
		if ref == except {
			for _, p := range g.ports {
				own[p] = true
			}
			continue
		}
		for _, p := range append(append([]published(nil), g.ports...), g.bindings...) {
			if p.HostPort != 0 {
				out = append(out, heldPort{p, g.name})
			}
		}
	}
	return out, own
}
