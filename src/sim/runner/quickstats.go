package runner

import (
	"fmt"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/vmware/govmomi/simulator"
	"github.com/vmware/govmomi/vim25/types"
)

// A running guest's QEMU process is what the VM costs the host, so the runner reports it where
// vSphere reports a VM's use: summary.quickStats (overallCpuUsage in MHz, guest and host memory in
// MB, uptime) and runtime.maxCpuUsage / maxMemoryUsage, which vcsim leaves empty. vSphere refreshes
// quick stats every 20 s; the runner does it on every rescan (2 s). Property collector watchers
// are not told: vSphere's quick stats are read, not watched.

// cpuSample is a QEMU process's CPU time at one moment, to turn the next one into a rate.
type cpuSample struct {
	ticks uint64
	at    time.Time
}

// clockTicks is USER_HZ, the unit of /proc/<pid>/stat's utime and stime: 100 on every Linux ABI.
const clockTicks = 100

// processCPUTicks reads utime + stime of a process (fields 14 and 15 of /proc/<pid>/stat; the
// command name, field 2, may hold spaces, so fields count from its closing parenthesis).
func processCPUTicks(pid int) (uint64, error) {
	raw, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return 0, err
	}
	return parseCPUTicks(string(raw))
}

func parseCPUTicks(stat string) (uint64, error) {
	end := strings.LastIndexByte(stat, ')')
	if end < 0 {
		return 0, fmt.Errorf("no command name in %q", stat)
	}
	fields := strings.Fields(stat[end+1:])
	// fields[0] is field 3 (state): utime is field 14, stime field 15.
	if len(fields) < 13 {
		return 0, fmt.Errorf("short stat line %q", stat)
	}
	utime, err1 := strconv.ParseUint(fields[11], 10, 64)
	stime, err2 := strconv.ParseUint(fields[12], 10, 64)
	if err1 != nil || err2 != nil {
		return 0, fmt.Errorf("utime/stime in %q", stat)
	}
	return utime + stime, nil
}

// processRSSMB reads a process's resident set (VmRSS) in MB.
func processRSSMB(pid int) (int32, error) {
	raw, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return 0, err
	}
	for _, line := range strings.Split(string(raw), "\n") {
		if rest, ok := strings.CutPrefix(line, "VmRSS:"); ok {
			kb, err := strconv.ParseInt(strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(rest), "kB")), 10, 64)
			if err != nil {
				return 0, err
			}
			return int32((kb + 1023) / 1024), nil
		}
	}
	return 0, fmt.Errorf("no VmRSS in /proc/%d/status", pid)
}

// guestRAMMB reads how much of the guest's RAM the host has had to back, in MB: the resident part
// of QEMU's anonymous mapping of exactly the VM's memory size (the guest's RAM block), from
// /proc/<pid>/smaps. QEMU's own memory (its binary, the kernel it loaded, the TCG translation
// cache) is left out, as vSphere's guest memory figures leave out the VMX's overhead.
func guestRAMMB(pid int, memoryMB int32) (int32, bool) {
	raw, err := os.ReadFile(fmt.Sprintf("/proc/%d/smaps", pid))
	if err != nil || memoryMB <= 0 {
		return 0, false
	}
	return parseGuestRAM(string(raw), int64(memoryMB)*1024)
}

func parseGuestRAM(smaps string, sizeKB int64) (int32, bool) {
	anonymous, size := false, int64(-1)
	for _, line := range strings.Split(smaps, "\n") {
		fields := strings.Fields(line)
		if len(fields) == 0 {
			continue
		}
		if strings.Contains(fields[0], "-") && !strings.HasSuffix(fields[0], ":") {
			// A mapping's header: range perms offset dev inode [path].
			anonymous, size = len(fields) == 5, -1
			continue
		}
		if len(fields) < 2 || !anonymous {
			continue
		}
		n, err := strconv.ParseInt(fields[1], 10, 64)
		if err != nil {
			continue
		}
		switch fields[0] {
		case "Size:":
			size = n
		case "Rss:":
			if size == sizeKB {
				return int32((n + 1023) / 1024), true
			}
		}
	}
	return 0, false
}

// cpuMHz turns two samples into MHz of a host core of hostMHz: a process that kept one core busy
// uses hostMHz.
func cpuMHz(prev, now cpuSample, hostMHz int32) int32 {
	elapsed := now.at.Sub(prev.at).Seconds()
	if elapsed <= 0 || now.ticks < prev.ticks {
		return 0
	}
	busy := float64(now.ticks-prev.ticks) / clockTicks / elapsed
	return int32(busy*float64(hostMHz) + 0.5)
}

// updateQuickStats samples each running guest's QEMU and writes the VM's quick stats.
func (r *Runner) updateQuickStats() {
	type running struct {
		g   *guest
		pid int
	}
	r.mu.Lock()
	var list []running
	for _, g := range r.guests {
		if g.state == stateRunning && g.pid > 0 {
			list = append(list, running{g, g.pid})
		}
	}
	r.mu.Unlock()
	for _, it := range list {
		ticks, err := processCPUTicks(it.pid)
		if err != nil {
			continue // it just ended: finish clears the stats
		}
		rss, _ := processRSSMB(it.pid)
		now := cpuSample{ticks: ticks, at: time.Now()}
		r.mu.Lock()
		prev, started := it.g.cpu, it.g.startedAt
		fresh := !prev.at.IsZero() && now.at.Sub(prev.at) < time.Second
		if !fresh {
			it.g.cpu = now
		}
		r.mu.Unlock()
		if fresh {
			continue // a wake-up right after a rescan: the rate needs a longer interval
		}
		setQuickStats(it.g.ref, func(vm *simulator.VirtualMachine, hostMHz int32) {
			mhz := int32(0)
			if !prev.at.IsZero() {
				mhz = cpuMHz(prev, now, hostMHz)
			}
			memoryMB := int32(0)
			if vm.Config != nil {
				memoryMB = vm.Config.Hardware.MemoryMB
			}
			guestMB, found := guestRAMMB(it.pid, memoryMB)
			if !found {
				guestMB = min(rss, memoryMB) // QEMU's own memory is not the guest's
			}
			q := &vm.Summary.QuickStats
			q.OverallCpuUsage = mhz
			q.OverallCpuDemand = mhz
			q.GuestMemoryUsage = guestMB
			q.HostMemoryUsage = rss
			q.UptimeSeconds = int32(time.Since(started).Seconds())
		})
	}
}

// clearQuickStats zeroes what a powered-off VM uses, as vSphere shows it.
func clearQuickStats(ref types.ManagedObjectReference) {
	setQuickStats(ref, func(vm *simulator.VirtualMachine, _ int32) {
		q := &vm.Summary.QuickStats
		q.OverallCpuUsage, q.OverallCpuDemand, q.GuestMemoryUsage, q.HostMemoryUsage, q.UptimeSeconds = 0, 0, 0, 0, 0
	})
}

// setQuickStats changes a VM's quick stats under the model's lock, and sets its runtime maxima
// (its vCPUs at its host's clock, its memory) as vSphere does for a VM that is on.
func setQuickStats(ref types.ManagedObjectReference, change func(vm *simulator.VirtualMachine, hostMHz int32)) {
	vm, ok := simulator.Map.Get(ref).(*simulator.VirtualMachine)
	if !ok {
		return
	}
	hostMHz := int32(0)
	simulator.Map.WithLock(simulator.SpoofContext(), vm, func() {
		if vm.Runtime.Host != nil {
			if h, ok := simulator.Map.Get(*vm.Runtime.Host).(*simulator.HostSystem); ok && h.Summary.Hardware != nil {
				hostMHz = h.Summary.Hardware.CpuMhz
			}
		}
	})
	if hostMHz <= 0 {
		hostMHz = 2000
	}
	simulator.Map.WithLock(simulator.SpoofContext(), vm, func() {
		change(vm, hostMHz)
		if vm.Config != nil {
			maxCPU := vm.Config.Hardware.NumCPU * hostMHz
			maxMem := vm.Config.Hardware.MemoryMB
			vm.Runtime.MaxCpuUsage, vm.Runtime.MaxMemoryUsage = maxCPU, maxMem
			vm.Summary.Runtime.MaxCpuUsage, vm.Summary.Runtime.MaxMemoryUsage = maxCPU, maxMem
		}
	})
}
