package runner

import (
	"os"
	"testing"
	"time"
)

func TestParseCPUTicks_GivenACommandNameWithSpacesAndParentheses_ThenUtimePlusStime(t *testing.T) {
	// pid (comm) state ppid pgrp session tty tpgid flags minflt cminflt majflt cmajflt utime stime ...
	line := "4242 (qemu (vic) x) S 1 4242 4242 0 -1 4194560 100 0 0 0 250 75 0 0 20 0 3 0 12345"
	got, err := parseCPUTicks(line)
	if err != nil || got != 325 {
		t.Fatalf("parseCPUTicks = %d, %v; want 325 (250 utime + 75 stime)", got, err)
	}
	if _, err := parseCPUTicks("4242 (short) S 1"); err == nil {
		t.Error("a short line was accepted")
	}
}

func TestCPUMHz_GivenHalfACoreForTwoSeconds_ThenHalfTheHostClock(t *testing.T) {
	at := time.Unix(1000, 0)
	prev := cpuSample{ticks: 1000, at: at}
	now := cpuSample{ticks: 1100, at: at.Add(2 * time.Second)} // 1 s of CPU in 2 s
	if got := cpuMHz(prev, now, 2294); got != 1147 {
		t.Errorf("cpuMHz = %d, want 1147", got)
	}
	if got := cpuMHz(now, prev, 2294); got != 0 {
		t.Errorf("time going backwards gave %d, want 0", got)
	}
}

func TestProcessStats_GivenThisProcess_ThenItsCPUAndResidentMemoryRead(t *testing.T) {
	ticks, err := processCPUTicks(os.Getpid())
	if err != nil {
		t.Fatal(err)
	}
	for start := time.Now(); time.Since(start) < 300*time.Millisecond; {
	} // burn some CPU so the ticks move
	after, err := processCPUTicks(os.Getpid())
	if err != nil || after <= ticks {
		t.Errorf("CPU ticks %d then %d (%v): want them to grow", ticks, after, err)
	}
	rss, err := processRSSMB(os.Getpid())
	if err != nil || rss <= 0 {
		t.Errorf("resident memory %d MB (%v)", rss, err)
	}
}
