package main

import (
	"strconv"
	"strings"
	"syscall"
)

// signalLinePrefix starts the lines the runner sends the other way over the status channel (QEMU's
// stdin to the second serial port): "vic-signal 15" asks the tether to send signal 15 to the
// container's process, as the hypervisor's way to deliver docker stop and docker kill -s.
const signalLinePrefix = "vic-signal"

// ParseSignalLine reads one line of the runner's; false for anything else (noise on the port).
func ParseSignalLine(line string) (syscall.Signal, bool) {
	fields := strings.Fields(line)
	if len(fields) != 2 || fields[0] != signalLinePrefix {
		return 0, false
	}
	n, err := strconv.Atoi(fields[1])
	// Linux signals are 1 to 64.
	if err != nil || n < 1 || n > 64 {
		return 0, false
	}
	return syscall.Signal(n), true
}
