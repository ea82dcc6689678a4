package main

import (
	"fmt"
	"sort"
	"strconv"
	"strings"
	"time"
)

// statusLinePrefix starts the one-line records the tether sends over the status channel under
// QEMU (the second serial port); the runner behind the simulator turns each key=value into the
// VM's extraConfig "guestinfo.vic.<key>", where the same keys land under vSphere (info-set).
const statusLinePrefix = "vic-status"

// ContainerStatus is what the tether tells vSphere about the container's process.
type ContainerStatus struct {
	State      string // "running" or "exited"
	ExitCode   int    // meaningful when State is "exited"
	StartedAt  time.Time
	FinishedAt time.Time
	Restarts   int
	// IPAddresses are the container's addresses, reported with every status.
	IPAddresses []string
	// Networks is each NIC's address with its prefix, gateway and MAC (NetworksReport), reported
	// with every status.
	Networks string
	// Input: the hypervisor's input reaches the process's stdin (docs/guest-config.md).
	Input bool
	// Exec: the hypervisor's exec requests reach the tether.
	Exec bool
}

// Fields renders the status as guestinfo keys (without the "guestinfo.vic." prefix).
func (s ContainerStatus) Fields() map[string]string {
	f := map[string]string{"status": s.State, "restart_count": strconv.Itoa(s.Restarts), "ip_addresses": strings.Join(s.IPAddresses, ","), "networks": s.Networks, "input": "", "exec": ""}
	if s.Input {
		f["input"] = "serial"
	}
	if s.Exec {
		f["exec"] = "serial"
	}
	if !s.StartedAt.IsZero() {
		f["started_at"] = s.StartedAt.UTC().Format(time.RFC3339Nano)
	}
	if s.State == "exited" {
		f["exit_code"] = strconv.Itoa(s.ExitCode)
		f["finished_at"] = s.FinishedAt.UTC().Format(time.RFC3339Nano)
	} else {
		// A restarted process clears what its predecessor left.
		f["exit_code"] = ""
		f["finished_at"] = ""
	}
	return f
}

// MaintenanceReadyFields is what a maintenance boot reports, once, when it serves docker cp
// (docs/guest-config.md, "Maintenance boot"): none of the container's own keys, so that its
// recorded state stays as it was; the runner writes guestinfo.vic.maintenance_ready for it.
func MaintenanceReadyFields() map[string]string {
	return map[string]string{"maintenance": "ready", "exec": "serial"}
}

// StatusLine renders the status as one status-channel line, keys sorted.
func StatusLine(s ContainerStatus) string {
	return statusLine(s.Fields())
}

func statusLine(fields map[string]string) string {
	keys := make([]string, 0, len(fields))
	for k := range fields {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	var b strings.Builder
	b.WriteString(statusLinePrefix)
	for _, k := range keys {
		// Values never hold spaces (state words, numbers, RFC 3339 times).
		fmt.Fprintf(&b, " %s=%s", k, fields[k])
	}
	b.WriteByte('\n')
	return b.String()
}
