package main

import (
	"encoding/json"
	"fmt"
	"io"
	"os"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"
)

// children routes the exit statuses the supervisor reaps: the main process's is returned, an
// exec's goes to its waiter. Held while an exec is forked and registered, so that its end cannot
// be reaped before its waiter is known. mainEnded: the container's process ended, and everything
// it left is being killed: no exec starts until the next one runs (a restart policy).
var children = struct {
	sync.Mutex
	execs     map[int]chan int
	mainEnded bool
}{execs: map[int]chan int{}}

// deliverExecStatus hands a reaped pid's status to its exec's waiter, if it is an exec's (the
// caller holds children).
func deliverExecStatus(pid, status int) {
	if done, ok := children.execs[pid]; ok {
		delete(children.execs, pid)
		done <- status
	}
}

// execSessions runs the hypervisor's exec requests in the container, and routes each one's input.
// In a maintenance boot (maintenance) only archive and files requests run; busy counts the requests under
// way, and closed refuses new ones once the boot ends (maintenance_linux.go).
type execSessions struct {
	cfg         Config
	devNull     *os.File
	maintenance bool
	mu          sync.Mutex
	inputs      map[string]*inputRouter
	busy        int
	closed      bool
}

func newExecSessions(cfg Config, devNull *os.File) *execSessions {
	return &execSessions{cfg: cfg, devNull: devNull, inputs: map[string]*inputRouter{}}
}

// handle takes one exec message, in the order they came: a request starts its process (its input
// router is known before the next message is read), input goes to its router.
func (e *execSessions) handle(m InMessage) {
	switch m.Kind {
	case "exec":
		e.mu.Lock()
		if _, dup := e.inputs[m.ID]; dup {
			e.mu.Unlock()
			logf("exec %s: requested again; ignored", m.ID)
			return
		}
		if e.closed {
			e.mu.Unlock()
			execFailed(m.ID, 126, "the container's maintenance boot is ending: docker cp cannot start now")
			return
		}
		input := newInputRouter()
		e.inputs[m.ID] = input
		e.busy++
		e.mu.Unlock()
		go func() {
			e.run(m.ID, m.Data, input)
			e.mu.Lock()
			delete(e.inputs, m.ID)
			e.busy--
			e.mu.Unlock()
			input.stop()
		}()
	case "exec-data", "exec-eof", "exec-resize":
		e.mu.Lock()
		input := e.inputs[m.ID]
		e.mu.Unlock()
		if input == nil {
			return
		}
		if m.Kind == "exec-resize" {
			input.push(inputItem{size: &m.Size})
		} else {
			input.push(inputItem{data: m.Data, eof: m.Kind == "exec-eof"})
		}
	}
}

// run runs one exec's process to its end: its output framed on the console under its own prefix,
// then its exit code (126/127 when it cannot start, as docker exec).
func (e *execSessions) run(id string, raw []byte, input *inputRouter) {
	exit := func(code int) { execExited(id, code) }
	fail := func(code int, message string) { execFailed(id, code, message) }
	req, err := ParseExecRequest(raw)
	if err != nil {
		fail(startFailedExitCode, err.Error())
		return
	}
	if e.maintenance && !req.ServedInMaintenance() {
		fail(126, maintenanceRefusal)
		return
	}
	if req.Processes {
		list, err := ListProcesses("/proc", userNames("/etc/passwd"), time.Now())
		if err != nil {
			fail(archiveFailed, "docker top: "+err.Error())
			return
		}
		out := &framedWriter{prefix: execFrame(id, "stdout")}
		line, _ := json.Marshal(list)
		_, _ = out.Write(line)
		out.Flush()
		exit(0)
		return
	}
	if req.Files {
		logf("exec %s: docker diff: listing /", id)
		out := &framedWriter{prefix: execFrame(id, "stdout")}
		if err := writeFileList(out, "/"); err != nil {
			// What was framed so far stays a truncated stream: the exit code says it is not whole.
			fail(archiveFailed, "docker diff: "+err.Error())
			return
		}
		out.Flush()
		exit(0)
		return
	}
	if req.Archive != nil {
		code, message := archiveExit(e.archive(id, *req.Archive, input))
		if message != "" {
			fail(code, "docker cp: "+message)
			return
		}
		exit(code)
		return
	}
	cfg := ExecConfig(e.cfg, req)
	who, err := resolveUserHere(cfg.User)
	if err != nil {
		fail(startFailedExitCode, err.Error())
		return
	}
	env := ContainerEnv(cfg, who.Home)
	program, err := lookPathIn(req.Argv[0], env, cfg.WorkingDir)
	if err != nil {
		fail(lookPathCode(err), fmt.Sprintf("exec: %q: %v", req.Argv[0], err))
		return
	}
	stdio, err := openStdio(cfg, e.devNull)
	if err != nil {
		fail(startFailedExitCode, err.Error())
		return
	}
	copied := stdio.copyOutputs(func(prefix string) string { return execFrame(id, strings.TrimPrefix(prefix, "vic-")) })
	logf("exec %s: %s as %d:%d in %s", id, strings.Join(quoteAll(req.Argv), " "), who.UID, who.GID, cfg.WorkingDir)
	done := make(chan int, 1)
	// Registered before its end can be reaped (reapChildren takes the same lock).
	children.Lock()
	if children.mainEnded {
		children.Unlock()
		stdio.started()
		stdio.ended()
		waitForCopiers(copied, len(stdio.outputs))
		fail(137, "the container's process has ended: its container stops")
		return
	}
	pid, err := stdio.fork(program, req.Argv, cfg.WorkingDir, env, who)
	if err == nil {
		children.execs[pid] = done
	}
	children.Unlock()
	if err != nil {
		waitForCopiers(copied, len(stdio.outputs))
		fail(forkCode(err), fmt.Sprintf("cannot run %s: %v", program, err))
		return
	}
	input.attach(stdio.input, stdio.terminal)
	code := <-done
	input.detach()
	stdio.ended()
	waitForCopiers(copied, len(stdio.outputs))
	logf("exec %s: exited with %d", id, code)
	exit(code)
}

// execExited writes an exec's exit frame: its end, for whoever waits for it.
func execExited(id string, code int) {
	writeConsole(FrameLine(execFrame(id, "exit"), time.Now(), []byte(strconv.Itoa(code))))
}

// execFailed ends an exec that could not run: the reason as its stderr, then its exit code.
func execFailed(id string, code int, message string) {
	logf("exec %s: %s", id, message)
	writeConsole(FrameLine(execFrame(id, "stderr"), time.Now(), []byte(message)))
	execExited(id, code)
}

// close refuses the exec requests that come from now on (a maintenance boot that ends).
func (e *execSessions) close() {
	e.mu.Lock()
	e.closed = true
	e.mu.Unlock()
}

// waitIdle waits until no request is under way, at most for bound, and says how many still are.
func (e *execSessions) waitIdle(bound time.Duration) int {
	deadline := time.Now().Add(bound)
	for {
		e.mu.Lock()
		busy := e.busy
		e.mu.Unlock()
		if busy == 0 || !time.Now().Before(deadline) {
			return busy
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// archive carries out docker cp's request (ArchiveRequest) in the tether itself: its output goes on
// the exec's stdout as exact frames, its input (a tar to extract) comes as the exec's.
func (e *execSessions) archive(id string, req ArchiveRequest, input *inputRouter) error {
	out := &framedWriter{prefix: execFrame(id, "stdout")}
	defer out.Flush()
	fsys := containerFS{root: "/"}
	logf("exec %s: docker cp: %s %s", id, req.Op, req.Path)
	switch req.Op {
	case "stat":
		st, err := fsys.Stat(req.Path)
		if err != nil {
			return err
		}
		line, _ := json.Marshal(st)
		_, err = out.Write(line)
		return err
	case "get":
		return fsys.Get(out, req.Path, req.OneFilesystem)
	}
	var owner *Identity
	if req.CopyUIDGID && e.cfg.User != "" {
		who, err := resolveUserHere(e.cfg.User)
		if err != nil {
			return err
		}
		owner = &who
	}
	r, w, err := os.Pipe()
	if err != nil {
		return err
	}
	input.attach(w, false)
	err = fsys.Put(r, req.Path, req, owner)
	if err == nil {
		// What follows the tar's end (its padding) is read too, so the sender is never left waiting.
		_, _ = io.Copy(io.Discard, r)
	}
	r.Close()
	input.detach()
	w.Close()
	// On the disk before the exit frame says it is done: the client may power the VM off right
	// after it (a maintenance boot's end, docker stop), and written pages still in the cache would
	// be lost with it. Even after a failure: what the entries before it wrote is the container's.
	syscall.Sync()
	return err
}

// framedWriter writes bytes as exact frames under prefix, archiveFrameBytes at a time.
type framedWriter struct {
	prefix string
	buf    []byte
}

// archiveFrameBytes: 12 KiB, 16 KiB of base64 a console line.
const archiveFrameBytes = 12 * 1024

func (f *framedWriter) Write(p []byte) (int, error) {
	f.buf = append(f.buf, p...)
	for len(f.buf) >= archiveFrameBytes {
		writeConsole(exactFrame(f.prefix, time.Now(), f.buf[:archiveFrameBytes]))
		f.buf = f.buf[archiveFrameBytes:]
	}
	return len(p), nil
}

func (f *framedWriter) Flush() {
	if len(f.buf) > 0 {
		writeConsole(exactFrame(f.prefix, time.Now(), f.buf))
		f.buf = nil
	}
}
