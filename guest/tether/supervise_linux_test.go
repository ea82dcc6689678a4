package main

import (
	"errors"
	"os"
	"os/signal"
	"path/filepath"
	"syscall"
	"testing"
	"time"
)

// startShell runs a real /bin/sh child, as the tether runs the container's process.
func startShell(t *testing.T, script string) int {
	t.Helper()
	pid, err := syscall.ForkExec("/bin/sh", []string{"sh", "-c", script}, &syscall.ProcAttr{
		Env:   []string{"PATH=/usr/bin:/bin"},
		Files: []uintptr{0, 1, 2},
		Sys:   &syscall.SysProcAttr{Setsid: true},
	})
	if err != nil {
		t.Fatalf("starting sh: %v", err)
	}
	return pid
}

func childSignals(t *testing.T) chan os.Signal {
	signals := make(chan os.Signal, 8)
	signal.Notify(signals, syscall.SIGCHLD)
	t.Cleanup(func() { signal.Stop(signals) })
	return signals
}

func waitForFile(t *testing.T, path string) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for time.Now().Before(deadline) {
		if _, err := os.Stat(path); err == nil {
			return
		}
		time.Sleep(10 * time.Millisecond)
	}
	t.Fatalf("%s never appeared", path)
}

func TestSupervise_GivenSIGTERM_ThenItIsForwardedAndTheProcessExitStatusReported(t *testing.T) {
	signals := childSignals(t)
	ready := filepath.Join(t.TempDir(), "ready")
	pid := startShell(t, `trap 'exit 7' TERM; : > `+ready+`; while :; do sleep 0.05; done`)
	waitForFile(t, ready)

	signals <- syscall.SIGTERM
	done := make(chan int, 1)
	go func() { done <- superviseContainerProcess(pid, signals) }()
	select {
	case status := <-done:
		if status != 7 {
			t.Fatalf("THEN the status is the trap's exit code 7, got %d", status)
		}
	case <-time.After(15 * time.Second):
		_ = syscall.Kill(pid, syscall.SIGKILL)
		t.Fatal("THEN the process ends after the forwarded SIGTERM; it did not")
	}
}

func TestSupervise_GivenAProcessKilledByASignal_ThenTheStatusIs128PlusTheSignal(t *testing.T) {
	signals := childSignals(t)
	pid := startShell(t, `kill -KILL $$`)
	if status := superviseContainerProcess(pid, signals); status != 137 {
		t.Fatalf("THEN 128+9, got %d", status)
	}
}

func TestSupervise_GivenAnOrphanThatExits_ThenItIsReapedNotLeftAZombie(t *testing.T) {
	// As PID 1 the tether inherits every orphan; a subreaper gets the same treatment in a test.
	if _, _, errno := syscall.RawSyscall(syscall.SYS_PRCTL, 36 /* PR_SET_CHILD_SUBREAPER */, 1, 0); errno != 0 {
		t.Fatalf("prctl(PR_SET_CHILD_SUBREAPER): %v", errno)
	}
	defer syscall.RawSyscall(syscall.SYS_PRCTL, 36, 0, 0)
	signals := childSignals(t)
	// The grandchild outlives its parent shell briefly, then exits while the main process still runs.
	pid := startShell(t, `sh -c 'sleep 0.1 &' ; sleep 0.6; exit 0`)
	if status := superviseContainerProcess(pid, signals); status != 0 {
		t.Fatalf("THEN status 0, got %d", status)
	}
	var ws syscall.WaitStatus
	if orphan, err := syscall.Wait4(-1, &ws, syscall.WNOHANG, nil); !errors.Is(err, syscall.ECHILD) {
		t.Fatalf("THEN no child is left (the orphan was reaped), got pid %d, err %v", orphan, err)
	}
}
