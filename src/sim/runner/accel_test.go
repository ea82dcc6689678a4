package runner

import (
	"errors"
	"os/exec"
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
