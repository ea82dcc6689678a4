package main

import (
	"encoding/base64"
	"os"
	"strings"
	"sync"
)

// Lines the runner sends the other way over the status channel, with the container's input
// (docs/guest-config.md, "Input from the hypervisor"): "vic-stdin <base64>" is input for the
// process's stdin, "vic-stdin-eof" its end.
const (
	inputLinePrefix = "vic-stdin"
	inputEOFLine    = "vic-stdin-eof"
	// maxInputLine bounds one line of the runner's (the endpoint sends at most 48 KiB a chunk).
	maxInputLine = 1 << 20
	// eot is what ends a terminal's input: the byte Ctrl-D sends.
	eot = 0x04
)

// ParseInputLine reads a runner's input line: its bytes, or eof; ok false for any other line.
func ParseInputLine(line string) (data []byte, eof, ok bool) {
	line = strings.TrimSpace(line)
	if line == inputEOFLine {
		return nil, true, true
	}
	rest, found := strings.CutPrefix(line, inputLinePrefix+" ")
	if !found {
		return nil, false, false
	}
	data, err := base64.StdEncoding.DecodeString(strings.TrimSpace(rest))
	if err != nil || len(data) == 0 {
		return nil, false, false
	}
	return data, false, true
}

// inputRouter takes the input the hypervisor sends, in order, to the stdin of the process that
// runs (a pipe's write end, or a terminal's master), from a goroutine of its own, so that a
// process that does not read its stdin holds up neither the signals nor the status. Input that
// comes while no process runs waits for the next one; after an end of input (a pipe closed),
// more input waits for the next process too.
type inputRouter struct {
	mu     sync.Mutex
	wake   chan struct{}
	queue  []inputItem
	target *os.File
	tty    bool
	closed bool // the target's input ended (eof on a pipe)
}

type inputItem struct {
	data []byte
	eof  bool
}

func newInputRouter() *inputRouter {
	r := &inputRouter{wake: make(chan struct{}, 1)}
	go r.run()
	return r
}

func (r *inputRouter) push(item inputItem) {
	r.mu.Lock()
	r.queue = append(r.queue, item)
	r.mu.Unlock()
	r.poke()
}

func (r *inputRouter) poke() {
	select {
	case r.wake <- struct{}{}:
	default:
	}
}

// attach makes f the input of the process that just started; nil (no stdin open) drops input.
func (r *inputRouter) attach(f *os.File, tty bool) {
	r.mu.Lock()
	r.target, r.tty, r.closed = f, tty, false
	r.mu.Unlock()
	r.poke()
}

// detach: the process ended; its stdin is closed by its owner.
func (r *inputRouter) detach() {
	r.mu.Lock()
	r.target = nil
	r.mu.Unlock()
}

func (r *inputRouter) run() {
	for range r.wake {
		for {
			r.mu.Lock()
			if r.target == nil || r.closed || len(r.queue) == 0 {
				r.mu.Unlock()
				break
			}
			item, target, tty := r.queue[0], r.target, r.tty
			r.queue = r.queue[1:]
			if item.eof && !tty {
				// The pipe's end: the process reads EOF. Closed under the lock, so that detach
				// and the process's end never race a close with a write.
				r.closed = true
				target.Close()
				r.mu.Unlock()
				continue
			}
			r.mu.Unlock()
			data := item.data
			if item.eof {
				data = []byte{eot}
			}
			if _, err := target.Write(data); err != nil {
				r.mu.Lock()
				// A process that ended meanwhile took its stdin with it: nothing to say.
				if r.target == target {
					r.closed = true
					logf("the container's input: %v (the rest is dropped)", err)
				}
				r.mu.Unlock()
			}
		}
	}
}
