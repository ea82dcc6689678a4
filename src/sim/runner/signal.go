package runner

import (
	"fmt"
	"io"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"sync"

	"github.com/vmware/govmomi/simulator"
)

// signalKey is where a client asks for a signal to the container's process: "<sequence> <number>",
// or "<sequence> <number> stop" for a stop's (the tether then runs the process no more), set with
// ReconfigVM_Task. A new sequence is a new request; the runner passes each on once, as a
// "vic-signal <number>[ stop]" line on the status channel's other direction (QEMU's stdin, the
// guest's second serial port), where the tether reads it (docs/guest-config.md).
const signalKey = "guestinfo.vic.signal"

// isExtraConfigChange: a change where signal requests and the guest's messages arrive.
func isExtraConfigChange(name string) bool {
	return strings.HasPrefix(name, "config.extraConfig")
}

// parseSignalRequest reads a signalKey value, and whether it is a stop's; false when it is no request.
func parseSignalRequest(value string) (sequence string, number int, stop bool, ok bool) {
	fields := strings.Fields(value)
	if len(fields) < 2 || len(fields) > 3 || (len(fields) == 3 && fields[2] != "stop") {
		return "", 0, false, false
	}
	n, err := strconv.Atoi(fields[1])
	if err != nil || n < 1 || n > 64 {
		return "", 0, false, false
	}
	return fields[0], n, len(fields) == 3, true
}

// signalLine is the line that passes a request on to the tether.
func signalLine(number int, stop bool) string {
	if stop {
		return fmt.Sprintf("vic-signal %d stop\n", number)
	}
	return fmt.Sprintf("vic-signal %d\n", number)
}

// signalChannel is the status channel's other direction, the runner's end of QEMU's stdin: the
// signal requests and the guest's messages (input, exec requests) go to the guest there, as lines.
// One writer goroutine writes them in order, signals before any message still queued, so that a
// guest slow to read its input holds up neither the runner nor a docker stop. Messages are queued
// only while fewer than maxQueuedInput bytes wait (room): the rest stay in the VM's extraConfig,
// where the client sees them pending and waits; drained is told when there is room again.
type signalChannel struct {
	mu      sync.Mutex
	read    *os.File
	write   *os.File
	last    string
	urgent  []string
	queue   []string
	queued  int
	wake    chan struct{}
	closed  bool
	drained func()
}

// maxQueuedInput bounds the guest's messages the runner holds: about 3 to 5 seconds of the serial
// line under software emulation.
const maxQueuedInput = 256 * 1024

// open gives QEMU a stdin of ours. The request the VM holds when it starts is old: only later
// ones are passed on.
func (c *signalChannel) open(cmd *exec.Cmd, current string, drained func()) error {
	r, w, err := os.Pipe()
	if err != nil {
		return err
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	c.read, c.write, c.last, c.drained = r, w, current, drained
	c.urgent, c.queue, c.queued, c.closed, c.wake = nil, nil, 0, false, make(chan struct{}, 1)
	cmd.Stdin = r
	go c.writeQueued(w, c.wake)
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
	c.closed, c.urgent, c.queue, c.queued = true, nil, nil, 0
	c.pokeLocked()
}

func (c *signalChannel) pokeLocked() {
	if c.wake != nil {
		select {
		case c.wake <- struct{}{}:
		default:
		}
	}
}

// send queues a signal line for the guest, ahead of any message; false once the channel is closed.
func (c *signalChannel) send(line string) bool { return c.enqueue(line, true) }

// sendInput queues a message line for the guest; false once the channel is closed.
func (c *signalChannel) sendInput(line string) bool { return c.enqueue(line, false) }

// room says whether a message may be queued now.
func (c *signalChannel) room() bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	return !c.closed && c.write != nil && c.queued < maxQueuedInput
}

func (c *signalChannel) enqueue(line string, urgent bool) bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.closed || c.write == nil {
		return false
	}
	if urgent {
		c.urgent = append(c.urgent, line)
	} else {
		c.queue = append(c.queue, line)
		c.queued += len(line)
	}
	c.pokeLocked()
	return true
}

// writeQueued writes the queued lines until the channel closes (QEMU gone: the write fails).
func (c *signalChannel) writeQueued(w *os.File, wake <-chan struct{}) {
	for range wake {
		for {
			c.mu.Lock()
			if c.closed {
				c.mu.Unlock()
				return
			}
			var line string
			message := false
			switch {
			case len(c.urgent) > 0:
				line, c.urgent = c.urgent[0], c.urgent[1:]
			case len(c.queue) > 0:
				line, c.queue, message = c.queue[0], c.queue[1:], true
			default:
				c.mu.Unlock()
			}
			if line == "" {
				break
			}
			c.mu.Unlock()
			if _, err := io.WriteString(w, line); err != nil {
				return
			}
			if message {
				c.mu.Lock()
				wasFull := c.queued >= maxQueuedInput
				c.queued -= len(line)
				drained := c.drained
				nowRoom := wasFull && c.queued < maxQueuedInput
				c.mu.Unlock()
				if nowRoom && drained != nil {
					drained()
				}
			}
		}
	}
}

// forwardSignal passes the VM's signal request on to the guest when it is a new one.
func (r *Runner) forwardSignal(g *guest, value string) {
	c := &g.signals
	c.mu.Lock()
	if value == c.last || c.write == nil {
		c.mu.Unlock()
		return
	}
	c.last = value
	c.mu.Unlock()
	_, number, stop, ok := parseSignalRequest(value)
	if !ok {
		r.opts.Logf("guest %s (%s): ignoring %s = %q: expected \"<sequence> <signal number>[ stop]\"", g.ref.Value, g.name, signalKey, value)
		return
	}
	if !c.send(signalLine(number, stop)) {
		r.opts.Logf("guest %s (%s): cannot pass signal %d to the guest: its QEMU is gone", g.ref.Value, g.name, number)
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
