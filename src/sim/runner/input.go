package runner

import (
	"sort"
	"strings"

	"github.com/vmware/govmomi/simulator"
	"github.com/vmware/govmomi/vim25/types"
)

// inputKeyPrefix starts the keys where a client puts messages for the guest, set with
// ReconfigVM_Task: input for the container's process (docker attach, run -i) and exec requests
// and their input (docs/guest-config.md, "Input from the hypervisor"). Sequences sort as the
// messages go. The runner is the transport only: it passes each value on once, in order, as a
// "vic-in <value>" line on the status channel's other direction, which the tether reads, and
// removes the key.
const inputKeyPrefix = "guestinfo.vic.stdin."

// inputChunk is one input key of the VM's.
type inputChunk struct {
	key, value string
}

// pendingInput lists the VM's input keys in the order of their sequences.
func pendingInput(options []types.BaseOptionValue) []inputChunk {
	var chunks []inputChunk
	for _, o := range options {
		v := o.GetOptionValue()
		if s, ok := v.Value.(string); ok && strings.HasPrefix(v.Key, inputKeyPrefix) {
			chunks = append(chunks, inputChunk{v.Key, s})
		}
	}
	sort.Slice(chunks, func(i, j int) bool { return chunks[i].key < chunks[j].key })
	return chunks
}

// maxInputValue bounds one message: the tether reads lines of up to 1 MiB (it drops longer ones).
const maxInputValue = 1<<20 - 64

// inputLine renders a value as the tether's line; false for one that cannot be a line (empty, too
// long, or with spaces or control characters: the messages are words of base64 and ids).
func inputLine(value string) (string, bool) {
	if value == "" || len(value) > maxInputValue {
		return "", false
	}
	for _, c := range value {
		if c <= ' ' || c > '~' {
			return "", false
		}
	}
	return "vic-in " + value + "\n", true
}

// forwardInput queues the VM's messages for its guest once the guest's process has started, or a
// maintenance boot said it serves docker cp (before, the tether may not be reading yet), while the
// channel has room, and says which keys are done with: passed on, or not a message. The others
// wait in the VM's extraConfig for room. The caller holds r.mu.
func (r *Runner) forwardInput(g *guest, chunks []inputChunk) (done []string) {
	if len(chunks) == 0 || !(g.processStarted || g.maintenanceReady) {
		return nil
	}
	for _, c := range chunks {
		line, ok := inputLine(c.value)
		if !ok {
			r.opts.Logf("guest %s (%s): dropping %s: its value is not one word of printable ASCII under 1 MiB", g.ref.Value, g.name, c.key)
		} else if !g.signals.room() || !g.signals.sendInput(line) {
			return done
		}
		done = append(done, c.key)
	}
	return done
}

// dropInput removes input keys from the VM's extraConfig.
func dropInput(ref types.ManagedObjectReference, keys []string) {
	if len(keys) == 0 {
		return
	}
	fields := make(map[string]string, len(keys))
	for _, k := range keys {
		fields[k] = ""
	}
	setExtraConfig(ref, fields)
}

// leftoverInput lists the input keys the VM holds now: input for a process that is gone.
func leftoverInput(ref types.ManagedObjectReference) []string {
	vm, ok := simulator.Map.Get(ref).(*simulator.VirtualMachine)
	if !ok {
		return nil
	}
	var keys []string
	simulator.Map.WithLock(simulator.SpoofContext(), vm, func() {
		if vm.Config != nil {
			for _, c := range pendingInput(vm.Config.ExtraConfig) {
				keys = append(keys, c.key)
			}
		}
	})
	return keys
}
