package main

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"os"
	"os/signal"
	"path/filepath"
	"strings"
	"syscall"
	"time"
	"unsafe"
)

const (
	tetherVersion = "0.1.0"
	// Written by scripts/build-bootstrap-iso.sh: one module file name per line, dependencies first.
	// The on-demand list (IDE/SATA, CD-ROM) loads only when the root disk is not on the
	// controllers of the first list (PVSCSI, virtio).
	moduleLoadOrder    = "/lib/modules/load-order"
	moduleLoadOnDemand = "/lib/modules/load-on-demand"
	// How long the disk may take to appear on PVSCSI or virtio before the on-demand drivers load.
	onDemandDriversAfter = 3 * time.Second
	moduleDir            = "/lib/modules"
	fwCfgConfigPath      = "/sys/firmware/qemu_fw_cfg/by_name/opt/vic/config/raw"
	guestinfoKey         = "vic.config"
	newRoot              = "/newroot"
	// Disks appear asynchronously after their driver loads; under software emulation a SCSI
	// scan takes seconds, so the bound is generous but finite.
	rootfsWait = 60 * time.Second
	// finit_module(2) on x86-64; the syscall package predates it.
	sysFinitModule = 313
)

var (
	errNotVMware     = errors.New("not a VMware VM")
	errCannotExecute = errors.New("cannot be executed")
)

func main() {
	if os.Getpid() != 1 {
		fmt.Fprintf(os.Stderr, "vic-tether %s: this is the init of a container VM; it only runs as PID 1 of the bootstrap ISO\n", tetherVersion)
		os.Exit(2)
	}
	status, err := runContainer()
	switch {
	case err != nil && maintenanceBoot:
		// Neither a status nor a stderr line: a maintenance boot leaves the container as it was,
		// and its client sees the VM power off without the boot saying it was ready.
		logf("maintenance boot: fatal: %v", err)
	case err != nil:
		logf("fatal: %v", err)
		// The container never ran: said as its ending, or docker run and wait would wait forever.
		reportNotStarted(ContainerStatus{}, startFailedExitCode, fmt.Sprintf("the container could not start: %v", err))
	case !maintenanceBoot:
		logf("exit-status %d", status)
	}
	powerOff()
}

// maintenanceBoot: this boot serves docker cp and docker diff only (maintenance_linux.go). Known as soon as the
// config is read, before it is checked, so that no failure of such a boot is reported as the
// container's.
var maintenanceBoot bool

// runContainer does everything between the kernel handing over and the container's process
// ending. An error means the process never ran, or could not be started.
func runContainer() (int, error) {
	if err := mountKernelFilesystems(""); err != nil {
		return 0, err
	}
	logf("starting (tether %s, uptime %s)", tetherVersion, uptime())
	loadModules(moduleLoadOrder)
	raw, source, err := readConfig()
	if err != nil {
		return 0, err
	}
	logf("config from %s (%d bytes)", source, len(raw))
	maintenanceBoot = RequestsMaintenance(raw)
	if reporter.viaBackdoor {
		// Taken (and cleared) whatever the config says, so that it cannot outlive this boot.
		taken := takeMaintenanceOverBackdoor()
		maintenanceBoot = maintenanceBoot || taken
	}
	cfg, err := ParseConfig(raw)
	if err != nil {
		return 0, fmt.Errorf("config from %s: %w", source, err)
	}
	cfg.Maintenance = maintenanceBoot
	if cfg.Maintenance {
		logf("maintenance boot: mounting the container's disk and volumes for docker cp; its process does not run")
	}
	device, err := waitForRootfs(cfg.Rootfs)
	if err != nil {
		return 0, err
	}
	// A maintenance boot has no network: nothing in it talks to anyone but the hypervisor, and a
	// DHCP lease or a static address taken now could be another container's by then.
	var leases []NetworkLease
	if !cfg.Maintenance {
		leases = setupNetwork(cfg)
	}
	if err := os.MkdirAll(newRoot, 0o755); err != nil {
		return 0, err
	}
	if err := syscall.Mount("/dev/"+device, newRoot, "ext4", 0, ""); err != nil {
		return 0, fmt.Errorf("mounting /dev/%s (ext4) on %s: %v", device, newRoot, err)
	}
	if err := switchRoot(newRoot); err != nil {
		return 0, err
	}
	if err := mountKernelFilesystems("inside"); err != nil {
		return 0, err
	}
	// The host files are the running container's (its addresses): a maintenance boot, which has
	// none, leaves the ones the last run wrote.
	if !cfg.Maintenance {
		if err := syscall.Sethostname([]byte(cfg.Hostname)); err != nil {
			return 0, fmt.Errorf("setting host name %q: %v", cfg.Hostname, err)
		}
		writeHostFiles(cfg.Hostname, cfg.OwnNames(), leases, cfg.Hosts)
	}
	if err := mountVolumes(cfg); err != nil {
		return 0, err
	}
	if cfg.Maintenance {
		serveMaintenance(cfg)
		return 0, nil
	}
	return startAndSupervise(cfg, ContainerStatus{IPAddresses: Addresses(leases), Networks: NetworksReport(leases)})
}

func uptime() string {
	b, err := os.ReadFile("/proc/uptime")
	if err != nil {
		return "unknown"
	}
	first, _, _ := strings.Cut(string(b), " ")
	return first + "s"
}

// mountKernelFilesystems mounts /proc, /sys and /dev, first in the initramfs (to find modules,
// fw_cfg and disks), then again inside the container root after the switch (the old mounts are
// moved, so "inside" adds what a container also expects: /dev/pts and /dev/shm). /tmp is the
// container's own, on its disk, as dockerd leaves it: what the image has there shows, and what docker
// cp puts there into a stopped container is there when it runs.
func mountKernelFilesystems(stage string) error {
	type mount struct {
		source, target, fstype string
		flags                  uintptr
		data                   string
		mode                   os.FileMode
	}
	mounts := []mount{
		{"devtmpfs", "/dev", "devtmpfs", syscall.MS_NOSUID, "mode=0755", 0o755},
		{"proc", "/proc", "proc", syscall.MS_NOSUID | syscall.MS_NODEV | syscall.MS_NOEXEC, "", 0o555},
		{"sysfs", "/sys", "sysfs", syscall.MS_NOSUID | syscall.MS_NODEV | syscall.MS_NOEXEC, "", 0o555},
	}
	if stage == "inside" {
		mounts = []mount{
			{"devpts", "/dev/pts", "devpts", syscall.MS_NOSUID | syscall.MS_NOEXEC, "newinstance,ptmxmode=0666,mode=0620", 0o755},
			{"shm", "/dev/shm", "tmpfs", syscall.MS_NOSUID | syscall.MS_NODEV, "mode=1777", 0o1777},
		}
	}
	for _, m := range mounts {
		if err := os.MkdirAll(m.target, m.mode); err != nil {
			return fmt.Errorf("creating mount point %s: %v", m.target, err)
		}
		if err := syscall.Mount(m.source, m.target, m.fstype, m.flags, m.data); err != nil && !errors.Is(err, syscall.EBUSY) {
			return fmt.Errorf("mounting %s on %s: %v", m.fstype, m.target, err)
		}
	}
	return nil
}

// loadModules inserts the modules the ISO ships, in dependency order. A module whose hardware is
// absent (PVSCSI under QEMU, fw_cfg under ESXi) loads anyway or fails harmlessly; failures are
// listed on one line, not fatal: the disk search below says what is really missing.
func loadModules(listFile string) {
	list, err := os.ReadFile(listFile)
	if err != nil {
		logf("no module list at %s (%v); relying on built-in drivers", listFile, err)
		return
	}
	started := time.Now()
	loaded := 0
	var failed []string
	for _, name := range strings.Fields(string(list)) {
		err := insertModule(filepath.Join(moduleDir, name))
		switch {
		case err == nil || errors.Is(err, syscall.EEXIST):
			loaded++
		default:
			failed = append(failed, fmt.Sprintf("%s (%v)", strings.TrimSuffix(name, ".ko"), err))
		}
	}
	took := time.Since(started).Round(10 * time.Millisecond)
	if len(failed) > 0 {
		logf("loaded %d kernel modules in %s; not loaded: %s", loaded, took, strings.Join(failed, ", "))
	} else {
		logf("loaded %d kernel modules in %s", loaded, took)
	}
}

func insertModule(path string) error {
	f, err := os.Open(path)
	if err != nil {
		return err
	}
	defer f.Close()
	params, _ := syscall.BytePtrFromString("")
	_, _, errno := syscall.Syscall(sysFinitModule, f.Fd(), uintptr(unsafe.Pointer(params)), 0)
	if errno != 0 {
		return errno
	}
	return nil
}

// readConfig tries fw_cfg (QEMU) first, then guestinfo (vSphere), and says which one it used.
func readConfig() ([]byte, string, error) {
	raw, err := os.ReadFile(fwCfgConfigPath)
	if err == nil {
		return raw, "fw_cfg opt/vic/config", nil
	}
	// Under vSphere the status goes back the way the config came: through guestinfo.
	reporter.viaBackdoor = true
	fwCfgProblem := fmt.Sprintf("fw_cfg opt/vic/config: %v", err)
	if errors.Is(err, os.ErrNotExist) {
		fwCfgProblem = "fw_cfg opt/vic/config is not set"
	}
	var value string
	err = withBackdoor(func(ports backdoorPorts) error {
		if !IsVMware(ports) {
			return errNotVMware
		}
		var err error
		value, err = GuestinfoGet(ports, guestinfoKey)
		return err
	})
	switch {
	case errors.Is(err, errNotVMware):
		return nil, "", fmt.Errorf("no container config: %s and this is not a VMware VM (no guestinfo); under QEMU give it with -fw_cfg name=opt/vic/config,file=config.json", fwCfgProblem)
	case err != nil:
		return nil, "", fmt.Errorf("no container config: %s, and guestinfo.%s could not be read (%v); the container_vm resource writes it into the VM's extraConfig", fwCfgProblem, guestinfoKey, err)
	}
	raw, err = DecodeGuestinfoConfig(value)
	if err != nil {
		return nil, "", err
	}
	return raw, "guestinfo." + guestinfoKey, nil
}

// takeMaintenanceOverBackdoor reads and clears guestinfo.vic.maintenance (TakeMaintenanceRequest):
// under vSphere the config is the container_vm resource's own, so a maintenance request comes
// beside it. A key that cannot be read is a normal boot, said on the console.
func takeMaintenanceOverBackdoor() bool {
	var taken bool
	err := withBackdoor(func(ports backdoorPorts) error {
		var err error
		taken, err = TakeMaintenanceRequest(ports)
		return err
	})
	if err != nil {
		logf("maintenance request (guestinfo.%s): %v", maintenanceKey, err)
	}
	return taken
}

// waitForRootfs scans /sys/class/block until a disk carries the wanted ext4 filesystem.
func waitForRootfs(want RootfsRef) (string, error) {
	started := time.Now()
	deadline := started.Add(rootfsWait)
	onDemandLoaded := false
	identified := map[string]BlockDevice{}
	for {
		if !onDemandLoaded && time.Since(started) > onDemandDriversAfter {
			onDemandLoaded = true
			logf("no container disk on PVSCSI or virtio after %s; loading the IDE/SATA drivers", onDemandDriversAfter)
			loadModules(moduleLoadOnDemand)
		}
		names, _ := os.ReadDir("/sys/class/block")
		var devices []BlockDevice
		for _, entry := range names {
			name := entry.Name()
			if skipBlockDevice(name) {
				continue
			}
			d, ok := identified[name]
			if !ok {
				d = identifyBlockDevice(name)
				if d.Err == nil || errors.Is(d.Err, errNotExt4) {
					identified[name] = d
				}
			}
			devices = append(devices, d)
		}
		if d, byLabel, found := ChooseRootfs(devices, want); found {
			if byLabel && want.UUID != "" {
				logf("no disk has filesystem UUID %s; using /dev/%s by its label %q (UUID %s)", want.UUID, d.Name, d.Identity.Label, d.Identity.UUID)
			} else {
				logf("container filesystem: /dev/%s (ext4 UUID %s, label %q)", d.Name, d.Identity.UUID, d.Identity.Label)
			}
			return d.Name, nil
		}
		if time.Now().After(deadline) {
			var seen []string
			for _, d := range devices {
				if d.Err != nil {
					seen = append(seen, fmt.Sprintf("%s (%v)", d.Name, d.Err))
				} else {
					seen = append(seen, fmt.Sprintf("%s (UUID %s, label %q)", d.Name, d.Identity.UUID, d.Identity.Label))
				}
			}
			if len(seen) == 0 {
				seen = []string{"none"}
			}
			return "", fmt.Errorf("no disk with ext4 UUID %q or label %q appeared within %s (block devices seen: %s); attach the image disk (its r/w child) to the VM", want.UUID, want.Label, rootfsWait, strings.Join(seen, ", "))
		}
		time.Sleep(100 * time.Millisecond)
	}
}

func skipBlockDevice(name string) bool {
	for _, prefix := range []string{"loop", "ram", "sr", "fd", "zram"} {
		if strings.HasPrefix(name, prefix) {
			return true
		}
	}
	return false
}

func identifyBlockDevice(name string) BlockDevice {
	d := BlockDevice{Name: name}
	f, err := os.Open("/dev/" + name)
	if err != nil {
		d.Err = err
		return d
	}
	defer f.Close()
	head := make([]byte, ext4SuperblockOffset+ext4SuperblockSize)
	if _, err := f.ReadAt(head, 0); err != nil {
		d.Err = err
		return d
	}
	d.Identity, d.Err = ReadExt4Identity(head)
	return d
}

// switchRoot makes newroot the root, as busybox's switch_root does: move the kernel
// filesystems in, free the initramfs (it is RAM), then move the mount onto / and chroot.
func switchRoot(newroot string) error {
	for _, dir := range []string{"/dev", "/proc", "/sys"} {
		target := newroot + dir
		if err := os.MkdirAll(target, 0o755); err != nil {
			return fmt.Errorf("creating %s in the container filesystem: %v", dir, err)
		}
		if err := syscall.Mount(dir, target, "", syscall.MS_MOVE, ""); err != nil {
			return fmt.Errorf("moving %s into the container filesystem: %v", dir, err)
		}
	}
	var rootStat syscall.Stat_t
	if err := syscall.Stat("/", &rootStat); err == nil {
		removeInitramfs("/", rootStat.Dev, newroot)
	}
	if err := syscall.Chdir(newroot); err != nil {
		return err
	}
	if err := syscall.Mount(".", "/", "", syscall.MS_MOVE, ""); err != nil {
		return fmt.Errorf("moving %s onto /: %v", newroot, err)
	}
	if err := syscall.Chroot("."); err != nil {
		return fmt.Errorf("chroot into the container filesystem: %v", err)
	}
	return syscall.Chdir("/")
}

// removeInitramfs deletes the initramfs files (never crossing into another filesystem) so
// their memory returns to the container.
func removeInitramfs(dir string, rootDev uint64, keep string) {
	entries, err := os.ReadDir(dir)
	if err != nil {
		return
	}
	for _, e := range entries {
		path := filepath.Join(dir, e.Name())
		if path == keep {
			continue
		}
		var st syscall.Stat_t
		if syscall.Lstat(path, &st) != nil || st.Dev != rootDev {
			continue
		}
		if e.IsDir() {
			removeInitramfs(path, rootDev, keep)
			_ = syscall.Rmdir(path)
		} else {
			_ = syscall.Unlink(path)
		}
	}
}

// startAndSupervise runs the entrypoint as the configured user and waits for it, reaping every
// orphan (we are PID 1) and forwarding termination signals. status holds the addresses it reports
// with every state.
func startAndSupervise(cfg Config, status ContainerStatus) (int, error) {
	id, err := resolveUserHere(cfg.User)
	if err != nil {
		return 0, err
	}
	env := ContainerEnv(cfg, id.Home)
	argv := cfg.Argv()
	if err := os.MkdirAll(cfg.WorkingDir, 0o755); err != nil {
		return 0, fmt.Errorf(`field "working_dir": cannot create %s in the container filesystem: %v`, cfg.WorkingDir, err)
	}
	program, err := lookPathIn(argv[0], env, cfg.WorkingDir)
	if err != nil {
		message := fmt.Sprintf("exec: %q: %v; check the image's entrypoint and cmd", argv[0], err)
		logf("error: %s", message)
		reportNotStarted(status, lookPathCode(err), message)
		return lookPathCode(err), nil
	}
	devNull, err := os.OpenFile("/dev/null", os.O_RDWR, 0)
	if err != nil {
		return 0, err
	}
	defer devNull.Close()
	signals := make(chan os.Signal, 32)
	signal.Notify(signals, syscall.SIGCHLD, syscall.SIGTERM, syscall.SIGINT, syscall.SIGHUP, syscall.SIGQUIT, syscall.SIGUSR1, syscall.SIGUSR2)
	// Opened before the process starts, and so before it is reported running: the runner sends
	// input once it is (docs/guest-config.md, "Input from the hypervisor").
	input := newInputRouter()
	execs := newExecSessions(cfg, devNull)
	stop := newStopRequest()
	lineOpen := !reporter.viaBackdoor && listenToHypervisor(signals, input, execs, stop)
	for {
		code, err := runOnce(cfg, id, env, argv, program, devNull, signals, input, lineOpen, &status)
		// A process a stop ended is not run again, as dockerd leaves a container its user stopped.
		if err != nil || stop.asked() || !cfg.Restart.ShouldRestart(code, status.Restarts) {
			return code, err
		}
		// Docker's back-off: 100 ms, doubled per restart, at most 10 s.
		pause := restartBackoffBase << min(status.Restarts, 7)
		if pause > restartBackoffMax {
			pause = restartBackoffMax
		}
		logf("process exited with %d; restarting it in %s (restart policy %s, restart %d)", code, pause, cfg.Restart.Policy, status.Restarts+1)
		select {
		case <-time.After(pause):
		case <-stop.done():
			logf("stopped while waiting to restart the process")
			return code, nil
		}
		status.Restarts++
	}
}

// resolveUserHere resolves a user spec against the container's /etc/passwd and /etc/group.
func resolveUserHere(spec string) (Identity, error) {
	passwd, _ := os.Open("/etc/passwd")
	group, _ := os.Open("/etc/group")
	defer closeIfOpen(passwd)
	defer closeIfOpen(group)
	return ResolveUser(spec, readerOrNil(passwd), readerOrNil(group))
}

// Docker's exit codes for a program that could not start: 126 found but not runnable, 127 not
// found. lookPathCode reads lookPathIn's error, forkCode ForkExec's.
func lookPathCode(err error) int {
	if errors.Is(err, errCannotExecute) {
		return 126
	}
	return 127
}

func forkCode(err error) int {
	if errors.Is(err, syscall.ENOENT) {
		return 127
	}
	return 126
}

// startFailedExitCode is the exit code of a container that could not start for a reason of its
// own (its user, its volumes, its filesystem): docker run's 125 for a start the daemon refused.
const startFailedExitCode = 125

// reportNotStarted ends a container whose process never ran: the reason as a line of its stderr
// (what docker run and docker logs show), and status (what else it reports, its addresses say)
// exited with the code, so that a client waiting for the container to end (docker run, wait) sees
// it end.
func reportNotStarted(status ContainerStatus, code int, message string) {
	writeConsole(FrameLine(stderrFrame, time.Now(), []byte(message)))
	status.State, status.ExitCode, status.FinishedAt = "exited", code, time.Now()
	reporter.report(status)
}

const (
	restartBackoffBase = 100 * time.Millisecond
	restartBackoffMax  = 10 * time.Second
)

// runOnce runs the process once: its output framed on the console, its start and end reported.
func runOnce(cfg Config, id Identity, env, argv []string, program string, devNull *os.File, signals chan os.Signal, input *inputRouter, lineOpen bool, status *ContainerStatus) (int, error) {
	// The process writes into pipes (or a terminal), not onto the console: the tether frames each
	// stream, so readers can tell stdout from stderr and from the kernel's and the tether's lines.
	stdio, err := openStdio(cfg, devNull)
	if err != nil {
		return 0, err
	}
	copied := stdio.copyOutputs(func(prefix string) string { return prefix })

	logf("exec %s as %d:%d in %s (uptime %s)", strings.Join(quoteAll(argv), " "), id.UID, id.GID, cfg.WorkingDir, uptime())
	children.Lock()
	children.mainEnded = false
	children.Unlock()
	pid, err := stdio.fork(program, argv, cfg.WorkingDir, env, id)
	if err != nil {
		message := fmt.Sprintf("cannot run %s: %v", program, err)
		logf("error: %s", message)
		reportNotStarted(*status, forkCode(err), message)
		return forkCode(err), nil
	}
	input.attach(stdio.input, stdio.terminal)
	status.State, status.StartedAt = "running", time.Now()
	// Clients send input and exec requests only where they reach: said with the running status.
	status.Input = stdio.input != nil && lineOpen
	status.Exec = lineOpen
	reporter.report(*status)
	code := superviseContainerProcess(pid, signals)
	stopStragglers()
	input.detach()
	stdio.ended()
	waitForCopiers(copied, len(stdio.outputs))
	status.State, status.ExitCode, status.FinishedAt, status.Input, status.Exec = "exited", code, time.Now(), false, false
	reporter.report(*status)
	return code, nil
}

// waitForCopiers waits until the output copiers have written everything the process printed.
// Every writer is dead by now (stopStragglers), so the pipes are at EOF; the bound only guards
// against a descendant the kill could not reach.
func waitForCopiers(copied <-chan struct{}, n int) {
	deadline := time.After(5 * time.Second)
	for i := 0; i < n; i++ {
		select {
		case <-copied:
		case <-deadline:
			logf("container output still open after the process ended; later output is dropped")
			return
		}
	}
}

// superviseContainerProcess waits for the container's process, reaping every other child that
// ends meanwhile (orphans are re-parented to PID 1) and forwarding the other signals to it.
func superviseContainerProcess(pid int, signals <-chan os.Signal) int {
	for {
		if status, done := reapChildren(pid); done {
			return status
		}
		if s := <-signals; s != syscall.SIGCHLD {
			_ = syscall.Kill(pid, s.(syscall.Signal))
		}
	}
}

// reapChildren collects every exited child, hands an exec's status to its waiter, and reports the
// main process's status once it is among them.
func reapChildren(main int) (int, bool) {
	for {
		var ws syscall.WaitStatus
		children.Lock()
		pid, err := syscall.Wait4(-1, &ws, syscall.WNOHANG, nil)
		if err != nil || pid <= 0 {
			children.Unlock()
			return 0, false
		}
		status := ExitStatus(ws.Exited(), ws.ExitStatus(), ws.Signaled(), int(ws.Signal()))
		deliverExecStatus(pid, status)
		if pid == main {
			// No exec starts while what the process left is killed (stopStragglers).
			children.mainEnded = true
		}
		children.Unlock()
		if pid == main {
			return status, true
		}
	}
}

// stopStragglers kills what the main process left behind, as Docker does when a container's
// main process exits.
// Execs among them end with the signal's status (137), told to their waiters.
func stopStragglers() {
	_ = syscall.Kill(-1, syscall.SIGKILL)
	deadline := time.Now().Add(2 * time.Second)
	for time.Now().Before(deadline) {
		var ws syscall.WaitStatus
		pid, err := syscall.Wait4(-1, &ws, 0, nil)
		if errors.Is(err, syscall.ECHILD) {
			return
		}
		if pid > 0 {
			children.Lock()
			deliverExecStatus(pid, ExitStatus(ws.Exited(), ws.ExitStatus(), ws.Signaled(), int(ws.Signal())))
			children.Unlock()
		}
	}
}

func powerOff() {
	syscall.Sync()
	// Read-only before power-off so the filesystem (the r/w child disk) is clean at rest.
	_ = syscall.Mount("", "/", "", syscall.MS_REMOUNT|syscall.MS_RDONLY, "")
	syscall.Sync()
	logf("powering off")
	// The UART may still hold the last lines; power-off would drop them.
	drainTTY(os.Stdout)
	err := syscall.Reboot(syscall.LINUX_REBOOT_CMD_POWER_OFF)
	logf("power-off failed (%v); halting", err)
	_ = syscall.Reboot(syscall.LINUX_REBOOT_CMD_HALT)
	for {
		time.Sleep(time.Hour)
	}
}

// lookPathIn resolves argv[0] with the container's PATH, not the tether's.
func lookPathIn(name string, env []string, workingDir string) (string, error) {
	if strings.Contains(name, "/") {
		if !filepath.IsAbs(name) {
			name = filepath.Join(workingDir, name)
		}
		return name, checkExecutable(name)
	}
	path, _ := envValue(env, "PATH")
	for _, dir := range filepath.SplitList(path) {
		if dir == "" {
			dir = "."
		}
		candidate := filepath.Join(dir, name)
		if checkExecutable(candidate) == nil {
			return candidate, nil
		}
	}
	// Names the variable, never its value: any env value may be a secret, and this goes to the console.
	// dockerd's words (runc's), then how many directories were looked in.
	return "", fmt.Errorf("executable file not found in $PATH (none of the %d directories of the container's PATH holds it)", len(filepath.SplitList(path)))
}

func checkExecutable(path string) error {
	st, err := os.Stat(path)
	if err != nil {
		return errors.Unwrap(err)
	}
	if st.IsDir() {
		return fmt.Errorf("%s is a directory: %w", path, errCannotExecute)
	}
	if st.Mode().Perm()&0o111 == 0 {
		return fmt.Errorf("%s is not executable: %w", path, errCannotExecute)
	}
	return nil
}

func quoteAll(argv []string) []string {
	out := make([]string, len(argv))
	for i, a := range argv {
		if a == "" || strings.ContainsAny(a, " \t\"'\\") {
			out[i] = fmt.Sprintf("%q", a)
		} else {
			out[i] = a
		}
	}
	return out
}

func readerOrNil(f *os.File) *bufio.Reader {
	if f == nil {
		return bufio.NewReader(bytes.NewReader(nil))
	}
	return bufio.NewReader(f)
}

func closeIfOpen(f *os.File) {
	if f != nil {
		f.Close()
	}
}
