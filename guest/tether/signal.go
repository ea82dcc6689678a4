package main

import (
	"strconv"
	"strings"
	"sync"
	"syscall"
)

// signalLinePrefix starts the lines the runner sends the other way over the status channel (QEMU's
// stdin to the second serial port): "vic-signal 15" asks the tether to send signal 15 to the
// container's process, as the hypervisor's way to deliver docker stop and docker kill -s;
// "vic-signal 15 stop" is a stop's (docker stop, power_state "stopped"): the process that ends then
// is not run again under the restart policy, as dockerd leaves a container its user stopped.
const signalLinePrefix = "vic-signal"

// stopWord marks a signal line (and the hypervisor's request) as a stop's.
const stopWord = "stop"

// ParseSignalLine reads one line of the runner's: the signal, and whether it is a stop's; false for
// anything else (noise on the port).
func ParseSignalLine(line string) (syscall.Signal, bool, bool) {
	fields := strings.Fields(line)
	if len(fields) < 2 || len(fields) > 3 || fields[0] != signalLinePrefix || (len(fields) == 3 && fields[2] != stopWord) {
		return 0, false, false
	}
	n, err := strconv.Atoi(fields[1])
	// Linux signals are 1 to 64.
	if err != nil || n < 1 || n > 64 {
		return 0, false, false
	}
	return syscall.Signal(n), len(fields) == 3, true
}

// stopRequest is set once a stop's signal comes: the restart loop then runs the process no more.
type stopRequest struct {
	once sync.Once
	ch   chan struct{}
}

func newStopRequest() *stopRequest { return &stopRequest{ch: make(chan struct{})} }

func (s *stopRequest) set() { s.once.Do(func() { close(s.ch) }) }

// done is closed once a stop was asked for.
func (s *stopRequest) done() <-chan struct{} { return s.ch }

func (s *stopRequest) asked() bool {
	select {
	case <-s.ch:
		return true
	default:
		return false
	}
}
