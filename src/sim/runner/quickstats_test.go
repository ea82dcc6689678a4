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

func TestParseGuestRAM_GivenQEMUsMappings_ThenTheResidentPartOfTheAnonymousBlockOfTheVMsSize(t *testing.T) {
	smaps := `55be678bc000-55be67e53000 r-xp 00000000 08:01 1234 /usr/bin/qemu-system-x86_64
Size:               5724 kB
Rss:                5392 kB
7ff487e00000-7ff48bcdb000 rw-p 00000000 08:01 99 /tmp/boot/vmlinux
Size:             262144 kB
Rss:               61440 kB
7ff48be00000-7ff49be00000 rw-p 00000000 00:00 0
Size:             262144 kB
KernelPageSize:        4 kB
Rss:              114688 kB
7ff49c000000-7ff4dbfff000 rw-p 00000000 00:00 0
Size:            1048572 kB
Rss:               69632 kB
`
	if got, ok := parseGuestRAM(smaps, 256*1024); !ok || got != 112 {
		t.Errorf("parseGuestRAM = %d, %v; want 112 MB (the anonymous 256 MiB block, not the file of the same size)", got, ok)
	}
	if _, ok := parseGuestRAM(smaps, 512*1024); ok {
		t.Error("a size no mapping has was found")
	}
}
