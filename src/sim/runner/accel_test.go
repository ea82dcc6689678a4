package runner

import (
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

func TestDecideAuto(t *testing.T) {
	ms := time.Millisecond
	cases := []struct {
		name   string
		tcg    time.Duration
		tcgErr error
		kvm    time.Duration
		want   string
	}{
		{"kvm far slower than tcg (a microVM's KVM)", 70 * ms, nil, 1300 * ms, "tcg"},
		{"kvm faster", 70 * ms, nil, 40 * ms, "kvm"},
		{"kvm slower than tcg but fast enough", 70 * ms, nil, 400 * ms, "kvm"},
		{"tcg slow too (a loaded machine)", 600 * ms, nil, 1300 * ms, "kvm"},
		{"tcg probe failed", 0, errors.New("no tcg"), 1300 * ms, "kvm"},
	}
	for _, c := range cases {
		got, why := decideAuto(c.tcg, c.tcgErr, c.kvm)
		if got != c.want || why == "" {
			t.Errorf("%s: decideAuto = %q (%q), want %q with a reason", c.name, got, why, c.want)
		}
	}
}

// The probe guest is real: QEMU boots the boot sector under TCG and exits with its status.
func TestProbeAccelTCG(t *testing.T) {
	qemu, err := exec.LookPath("qemu-system-x86_64")
	if err != nil {
		t.Fatalf("qemu-system-x86_64 is needed (apt-get install qemu-system-x86): %v", err)
	}
	took, err := probeAccel(qemu, "tcg", probeTimeout)
	if err != nil || took <= 0 || took >= probeTimeout {
		t.Fatalf("probeAccel tcg = %s, %v; want the probe's exit within %s", took, err, probeTimeout)
	}
	// An accelerator QEMU does not know is an error, not a probe that ran.
	if _, err := probeAccel(qemu, "nosuch", probeTimeout); err == nil || !strings.Contains(err.Error(), "did not run to its end") {
		t.Fatalf("probeAccel nosuch = %v; want an error", err)
	}
}

func TestCachedAutoProbesOncePerKey(t *testing.T) {
	// GIVEN an empty cache directory and a decision that counts its probes
	file := filepath.Join(t.TempDir(), "vic-iac", "accel.json")
	probes := 0
	decide := func() (string, string) {
		probes++
		return "tcg", "KVM slower than emulation here"
	}
	// WHEN two starts under one key ask
	first, _ := cachedAuto(file, "boot-1|qemu|1|2|kvm", decide)
	second, why := cachedAuto(file, "boot-1|qemu|1|2|kvm", decide)
	// THEN one probed, the other took its answer and says so
	if first != "tcg" || second != "tcg" || probes != 1 || !strings.Contains(why, "probed earlier this boot") {
		t.Fatalf("cachedAuto = %q, %q (%q) after %d probes; want tcg twice after 1 probe", first, second, why, probes)
	}
	// AND a new boot (or QEMU, or /dev/kvm now usable) probes again
	if got, _ := cachedAuto(file, "boot-2|qemu|1|2|kvm", decide); got != "tcg" || probes != 2 {
		t.Fatalf("a new key: %q after %d probes; want a second probe", got, probes)
	}
	// AND a cache file that does not parse, or no key, means probing, never failing
	if err := os.WriteFile(file, []byte("{not json"), 0o600); err != nil {
		t.Fatal(err)
	}
	if got, _ := cachedAuto(file, "boot-2|qemu|1|2|kvm", decide); got != "tcg" || probes != 3 {
		t.Fatalf("an unreadable cache: %q after %d probes; want a third probe", got, probes)
	}
	if got, _ := cachedAuto(file, "", decide); got != "tcg" || probes != 4 {
		t.Fatalf("no key: %q after %d probes; want a fourth probe", got, probes)
	}
}

func TestAccelKeyNamesTheBootAndQEMU(t *testing.T) {
	qemu, err := exec.LookPath("qemu-system-x86_64")
	if err != nil {
		t.Fatalf("qemu-system-x86_64 is needed (apt-get install qemu-system-x86): %v", err)
	}
	key := accelKey(qemu)
	boot, err := os.ReadFile("/proc/sys/kernel/random/boot_id")
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(key, strings.TrimSpace(string(boot))+"|"+qemu+"|") || (!strings.HasSuffix(key, "|kvm") && !strings.HasSuffix(key, "|no-kvm")) {
		t.Fatalf("accelKey = %q; want the boot id, the QEMU path, its size and time, and whether /dev/kvm opens", key)
	}
	if accelKey("/nonexistent/qemu") != "" {
		t.Fatal("a QEMU that is not there has no key")
	}
}
