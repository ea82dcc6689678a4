package runner

import (
	"fmt"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"sync"

	"github.com/vmware/govmomi/simulator"
)

// signalKey is where a client asks for a signal to the container's process: "<sequence> <number>",
// set with ReconfigVM_Task. A new sequence is a new request; the runner passes each on once, as a
// "vic-signal <number>" line on the status channel's other direction (QEMU's stdin, the guest's
// second serial port), where the tether reads it (docs/guest-config.md).
const signalKey = "guestinfo.vic.signal"

func isSignalChange(name string) bool {
	return strings.HasPrefix(name, "config.extraConfig")
}

// parseSignalRequest reads a signalKey value; false when it is no request.
func parseSignalRequest(value string) (sequence string, number int, ok bool) {
	fields := strings.Fields(value)
	if len(fields) != 2 {
		return "", 0, false
	}
	n, err := strconv.Atoi(fields[1])
	if err != nil || n < 1 || n > 64 {
		return "", 0, false
	}
	return fields[0], n, true
}

// signalChannel is the runner's end of QEMU's stdin, and the last request passed on.
type signalChannel struct {
	mu    sync.Mutex
	read  *os.File
	write *os.File
	last  string
}

// open gives QEMU a stdin of ours. The request the VM holds when it starts is old: only later
// ones are passed on.
func (c *signalChannel) open(cmd *exec.Cmd, current string) error {
	r, w, err := os.Pipe()
	if err != nil {
		return err
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	c.read, c.write, c.last = r, w, current
	cmd.Stdin = r
	return nil
}

// started drops our copy of QEMU's end.
func (c *signalChannel) started() {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.read != nil {
		c.read.Close()
		c.read = nil
	}
}

func (c *signalChannel) close() {
	c.mu.Lock()
	defer c.mu.Unlock()
	for _, f := range []**os.File{&c.read, &c.write} {
		if *f != nil {
			(*f).Close()
			*f = nil
		}
	}
}

// forwardSignal passes the VM's signal request on to the guest when it is a new one.
func (r *Runner) forwardSignal(g *guest, value string) {
	c := &g.signals
	c.mu.Lock()
	defer c.mu.Unlock()
	if value == c.last || c.write == nil {
		return
	}
	c.last = value
	_, number, ok := parseSignalRequest(value)
	if !ok {
		r.opts.Logf("guest %s (%s): ignoring %s = %q: expected \"<sequence> <signal number>\"", g.ref.Value, g.name, signalKey, value)
		return
	}
	if _, err := fmt.Fprintf(c.write, "vic-signal %d\n", number); err != nil {
		r.opts.Logf("guest %s (%s): cannot pass signal %d to the guest: %v", g.ref.Value, g.name, number, err)
		return
	}
	r.opts.Logf("guest %s (%s): signal %d passed to the guest", g.ref.Value, g.name, number)
}

// currentSignal is the VM's signal request as the model has it now (the caller holds no lock).
func currentSignal(vm *simulator.VirtualMachine) string {
	var value string
	simulator.Map.WithLock(simulator.SpoofContext(), vm, func() {
		if vm.Config != nil {
			value = extraConfigValue(vm.Config.ExtraConfig, signalKey)
		}
	})
	return value
}
