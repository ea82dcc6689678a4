package runner

import (
	"encoding/base64"
	"sort"
	"strings"

	"github.com/vmware/govmomi/simulator"
	"github.com/vmware/govmomi/vim25/types"
)

// inputKeyPrefix starts the keys where a client puts input for the container's process (docker
// attach, run -i): "guestinfo.vic.stdin.<sequence>" = "data:<base64>", or "eof" for the end of
// the input, set with ReconfigVM_Task. Sequences sort as the input goes. The runner passes each
// on once, in order, as a "vic-stdin <base64>" or "vic-stdin-eof" line on the status channel's
// other direction, and removes the key (docs/guest-config.md, "Input from the hypervisor").
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

// inputLine renders a chunk as the tether's line; false for a value that is no input.
func inputLine(value string) (string, bool) {
	if value == "eof" {
		return "vic-stdin-eof\n", true
	}
	data, ok := strings.CutPrefix(value, "data:")
	if !ok || data == "" {
		return "", false
	}
	if _, err := base64.StdEncoding.DecodeString(data); err != nil {
		return "", false
	}
	return "vic-stdin " + data + "\n", true
}

// forwardInput queues the VM's input for its guest once the guest's process has started (before,
// the tether may not be reading yet), and says which keys are done with: passed on, or not input.
func (r *Runner) forwardInput(g *guest, chunks []inputChunk) (done []string) {
	if len(chunks) == 0 || !g.processStarted {
		return nil
	}
	for _, c := range chunks {
		line, ok := inputLine(c.value)
		if !ok {
			r.opts.Logf("guest %s (%s): dropping %s: expected \"data:<base64>\" or \"eof\"", g.ref.Value, g.name, c.key)
		} else if !g.signals.send(line) {
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
