package main

import (
	"bufio"
	"encoding/base64"
	"errors"
	"os"
	"strconv"
	"strings"
	"sync"
)

// inLinePrefix starts the lines that carry the hypervisor's messages for the guest, each one the
// value of a "guestinfo.vic.stdin.<sequence>" key that the runner passes on as it is, in sequence
// order (docs/guest-config.md, "Input from the hypervisor"):
//
//	data:<base64>             input for the container's process
//	eof                       the end of its input
//	exec:<id>:<base64 JSON>   run a process beside it (docker exec; ExecRequest)
//	exec-data:<id>:<base64>   input for that process
//	exec-eof:<id>             the end of its input
//	resize:<rows>x<cols>      the size of the container's terminal (docker's resize)
//	exec-resize:<id>:<rows>x<cols>  the size of that process's terminal
const inLinePrefix = "vic-in "

const (
	// maxInputLine bounds one line of the runner's (the endpoint sends at most 48 KiB a chunk).
	maxInputLine = 1 << 20
	// eot is what ends a terminal's input: the byte Ctrl-D sends.
	eot = 0x04
)

var errLineTooLong = errors.New("line too long")

// ReadBoundedLine reads one line (without its newline) of at most max bytes; a longer one is read
// to its end and dropped (errLineTooLong), so the next line is read whole.
func ReadBoundedLine(r *bufio.Reader, max int) (string, error) {
	var line []byte
	tooLong := false
	for {
		part, err := r.ReadSlice('\n')
		if !tooLong {
			if len(line)+len(part) > max+1 {
				tooLong, line = true, nil
			} else {
				line = append(line, part...)
			}
		}
		if err == bufio.ErrBufferFull {
			continue
		}
		if err != nil {
			return "", err
		}
		if tooLong {
			return "", errLineTooLong
		}
		return strings.TrimRight(string(line), "\r\n"), nil
	}
}

// InMessage is one message of the hypervisor's, read from its line.
type InMessage struct {
	Kind string // "data", "eof", "exec", "exec-data", "exec-eof", "resize", "exec-resize"
	ID   string // the exec's, for the exec kinds
	Data []byte // input bytes, or the exec request's JSON
	// Size is a terminal's, for the resize kinds.
	Size TerminalSize
}

// TerminalSize is a terminal's rows and columns.
type TerminalSize struct {
	Rows, Cols uint16
}

// parseTerminalSize reads "<rows>x<cols>", each 1 to 65535.
func parseTerminalSize(s string) (TerminalSize, bool) {
	rows, cols, found := strings.Cut(s, "x")
	r, errR := strconv.ParseUint(rows, 10, 16)
	c, errC := strconv.ParseUint(cols, 10, 16)
	if !found || errR != nil || errC != nil || r == 0 || c == 0 {
		return TerminalSize{}, false
	}
	return TerminalSize{Rows: uint16(r), Cols: uint16(c)}, true
}

// ParseInLine reads one line of the runner's; false for any other line (noise on the port).
func ParseInLine(line string) (InMessage, bool) {
	value, found := strings.CutPrefix(strings.TrimSpace(line), strings.TrimSpace(inLinePrefix)+" ")
	if !found {
		return InMessage{}, false
	}
	kind, rest, _ := strings.Cut(strings.TrimSpace(value), ":")
	var id, payload string
	switch kind {
	case "eof":
		return InMessage{Kind: kind}, rest == ""
	case "data":
		payload = rest
	case "exec-eof":
		return InMessage{Kind: kind, ID: rest}, validExecID(rest)
	case "resize":
		size, ok := parseTerminalSize(rest)
		return InMessage{Kind: kind, Size: size}, ok
	case "exec-resize":
		id, size, _ := strings.Cut(rest, ":")
		parsed, ok := parseTerminalSize(size)
		return InMessage{Kind: kind, ID: id, Size: parsed}, ok && validExecID(id)
	case "exec", "exec-data":
		id, payload, _ = strings.Cut(rest, ":")
		if !validExecID(id) {
			return InMessage{}, false
		}
	default:
		return InMessage{}, false
	}
	data, err := base64.StdEncoding.DecodeString(payload)
	if err != nil || len(data) == 0 {
		return InMessage{}, false
	}
	return InMessage{Kind: kind, ID: id, Data: data}, true
}

// validExecID: an exec's id is 1 to 64 lowercase hex digits (a Docker exec id, or its start).
func validExecID(id string) bool {
	if id == "" || len(id) > 64 {
		return false
	}
	for _, c := range id {
		if !(c >= '0' && c <= '9' || c >= 'a' && c <= 'f') {
			return false
		}
	}
	return true
}

// inputRouter takes the input the hypervisor sends, in order, to the stdin of the process that
// runs (a pipe's write end, or a terminal's master), from a goroutine of its own, so that a
// process that does not read its stdin holds up neither the signals nor the status. Input that
// comes while no process runs waits for the next one; after an end of input (a pipe closed),
// more input waits for the next process too.
type inputRouter struct {
	mu      sync.Mutex
	wake    chan struct{}
	queue   []inputItem
	target  *os.File
	tty     bool
	closed  bool // the target's input ended (eof on a pipe)
	stopped bool
}

type inputItem struct {
	data []byte
	eof  bool
	// size, when set, is the terminal's new size: nothing is written, and a process without a
	// terminal ignores it.
	size *TerminalSize
}

func newInputRouter() *inputRouter {
	r := &inputRouter{wake: make(chan struct{}, 1)}
	go r.run()
	return r
}

func (r *inputRouter) push(item inputItem) {
	r.mu.Lock()
	if !r.stopped {
		r.queue = append(r.queue, item)
	}
	r.mu.Unlock()
	r.poke()
}

func (r *inputRouter) poke() {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.stopped {
		return
	}
	select {
	case r.wake <- struct{}{}:
	default:
	}
}

// stop ends the router's goroutine (an exec's, once it ended); later input is dropped.
func (r *inputRouter) stop() {
	r.mu.Lock()
	defer r.mu.Unlock()
	if !r.stopped {
		r.stopped = true
		r.queue = nil
		close(r.wake)
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
			if item.size != nil {
				// The kernel tells the terminal's foreground processes (SIGWINCH).
				if tty {
					if err := setTerminalSize(target, *item.size); err != nil {
						logf("the container's terminal size: %v", err)
					}
				}
				r.mu.Unlock()
				continue
			}
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
