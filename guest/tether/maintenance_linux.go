package main

import (
	"os"
	"os/signal"
	"syscall"
	"time"
)

// A maintenance boot is how docker cp reaches a stopped container (docs/guest-config.md,
// "Maintenance boot"): the VM boots with the container's disk and volumes mounted as for a run,
// but the container's process does not run, nothing of the container's state is reported, and the
// tether serves the archive requests (stat, get, put) of the usual exec channel until the client
// asks it to end with SIGTERM or SIGINT.

// maintenanceEndWait bounds how long docker cp operations under way may take to finish once the
// end is asked for: a put whose sender went away would never end.
const maintenanceEndWait = 10 * time.Second

// serveMaintenance serves docker cp until the end is asked for, then leaves the disks clean for
// the power-off. It reports one line, maintenance=ready, and only over the hypervisor's line:
// where that line is not (vSphere, today) no request could reach the disk, so it ends at once.
func serveMaintenance(cfg Config) {
	logf("maintenance boot: container filesystem and %d volume(s) mounted", len(cfg.Mounts))
	const unreachable = "maintenance boot: the hypervisor line is not available here, so docker cp cannot reach this disk; powering off"
	if reporter.viaBackdoor {
		logf(unreachable)
		return
	}
	devNull, err := os.OpenFile("/dev/null", os.O_RDWR, 0)
	if err != nil {
		logf("maintenance boot: opening /dev/null: %v; powering off", err)
		return
	}
	defer devNull.Close()
	signals := make(chan os.Signal, 32)
	signal.Notify(signals, syscall.SIGCHLD, syscall.SIGTERM, syscall.SIGINT)
	// No process reads input here: what the hypervisor sends as the container's is dropped.
	input := newInputRouter()
	input.stop()
	execs := newExecSessions(cfg, devNull)
	execs.maintenance = true
	if !listenToHypervisor(signals, input, execs, newStopRequest()) {
		logf(unreachable)
		return
	}
	reporter.send(MaintenanceReadyFields())
	logf("maintenance boot: ready: serving docker cp and docker diff on the hypervisor line until SIGTERM or SIGINT")
	s := waitForEndRequest(signals)
	logf("maintenance boot: ending (signal %d)", int(s))
	execs.close()
	if busy := execs.waitIdle(maintenanceEndWait); busy > 0 {
		logf("maintenance boot: %d docker cp operation(s) still under way after %s; ending anyway", busy, maintenanceEndWait)
	}
	syscall.Sync()
	unmountVolumes(cfg.Mounts)
	logf("maintenance boot: ended; the container's state is left as it was")
}

// waitForEndRequest reaps whatever ends meanwhile (no process runs, but PID 1 reaps all the same)
// until SIGTERM or SIGINT comes, from the hypervisor's line or from the kernel.
func waitForEndRequest(signals <-chan os.Signal) syscall.Signal {
	for {
		reapChildren(0)
		s := (<-signals).(syscall.Signal)
		switch s {
		case syscall.SIGTERM, syscall.SIGINT:
			return s
		case syscall.SIGCHLD:
		default:
			logf("maintenance boot: signal %d ignored: only SIGTERM or SIGINT ends it", int(s))
		}
	}
}

// unmountVolumes takes the volumes off, the last mounted first (a mount may sit inside another),
// so that each is clean at rest; one still in use is made read-only instead.
func unmountVolumes(mounts []MountConfig) {
	for i := len(mounts) - 1; i >= 0; i-- {
		m := mounts[i]
		err := syscall.Unmount(m.Path, 0)
		if err == nil {
			continue
		}
		if rerr := syscall.Mount("", m.Path, "", syscall.MS_REMOUNT|syscall.MS_RDONLY|syscall.MS_NODEV, ""); rerr != nil {
			logf("maintenance boot: the volume on %s can neither be unmounted (%v) nor made read-only (%v)", m.Path, err, rerr)
		} else {
			logf("maintenance boot: the volume on %s cannot be unmounted (%v); made read-only", m.Path, err)
		}
	}
}
