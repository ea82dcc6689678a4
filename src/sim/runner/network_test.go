package runner

import (
	"fmt"
	"net"
	"os/exec"
	"strings"
	"testing"
	"time"
)

func TestMonitorOutput_GivenTheEchoedCommandAndAnAnswer_ThenOnlyTheAnswerIsKept(t *testing.T) {
	echo := "h\x1b[K\x1b[Dho\x1b[K\x1b[D\x1b[Dhostfwd_add uplink tcp:127.0.0.1:1-10.0.2.15:80\x1b[K\r\n"
	if got := monitorOutput(echo); got != "" {
		t.Errorf("a command that printed nothing: got %q", got)
	}
	if got := monitorOutput(echo + "Could not set up host forwarding rule 'x'\r\n"); got != "Could not set up host forwarding rule 'x'" {
		t.Errorf("a complaint: got %q", got)
	}
}

func TestSegment_GivenPortGroups_ThenEachHasItsSubnet(t *testing.T) {
	a := &segment{index: 1}
	b := &segment{index: 2}
	if a.subnet() != "10.0.2.0/24" || b.subnet() != "10.0.3.0/24" {
		t.Errorf("subnets %s %s, want 10.0.2.0/24 10.0.3.0/24", a.subnet(), b.subnet())
	}
	if !a.contains("10.0.2.15") || a.contains("10.0.3.15") || a.contains("fe80::1") {
		t.Error("contains() disagrees with the subnet")
	}
}

// A real hub QEMU: it starts, takes a forward over its monitor, refuses the same one twice,
// withdraws it, and ends with its last user.
func TestNetworks_GivenTwoGuestsOnOnePortGroup_ThenOneHubQemuServesBothAndEndsWithTheLast(t *testing.T) {
	n := testNetworks(t)
	a, err := n.acquire("VM Network")
	if err != nil {
		t.Fatal(err)
	}
	b, err := n.acquire("VM Network")
	if err != nil {
		t.Fatal(err)
	}
	other, err := n.acquire("dvportgroup-9")
	if err != nil {
		t.Fatal(err)
	}
	if a != b || a == other || len(n.list()) != 2 || n.list()[0].Guests != 2 {
		t.Fatalf("segments %p %p %p, list %+v: want one shared segment with 2 guests and another", a, b, other, n.list())
	}
	p := published{exposedPort{"tcp", 80}, "127.0.0.1", freePort(t)}
	if err := a.forward(p, "10.0.2.15"); err != nil {
		t.Fatal(err)
	}
	if err := a.forward(p, "10.0.2.15"); err == nil || !strings.Contains(err.Error(), "Could not") {
		t.Errorf("the same forward twice: %v, want QEMU's complaint", err)
	}
	if err := a.unforward(p); err != nil {
		t.Error(err)
	}
	n.release([]*segment{a}, []string{n.plug(a, "vm-1", 0)})
	if len(n.list()) != 2 {
		t.Errorf("after one of two guests left: %+v", n.list())
	}
	n.release([]*segment{b, other}, nil)
	select {
	case <-a.exited:
	case <-time.After(5 * time.Second):
		t.Error("the hub QEMU outlived its last guest")
	}
	if len(n.list()) != 0 {
		t.Errorf("networks left: %+v", n.list())
	}
}

// testNetworks gives a test the runner's networks with the real QEMU, closed when it ends.
func testNetworks(t *testing.T) *networks {
	t.Helper()
	qemu, err := exec.LookPath("qemu-system-x86_64")
	if err != nil {
		t.Fatalf("this test runs QEMU: %v", err)
	}
	n := newNetworks(qemu, t.TempDir(), t.Logf)
	t.Cleanup(n.close)
	return n
}

func freePort(t *testing.T) int {
	t.Helper()
	ports, err := pickHostPorts([]published{{exposedPort: exposedPort{"tcp", 80}, HostIP: "127.0.0.1"}})
	if err != nil {
		t.Fatal(err)
	}
	return ports[0].HostPort
}

// Another process took the host port the runner picked before the guest reported its address:
// the forward moves to a free port and the guest's published ports say so, instead of publishing
// nothing (a user's curl then finds no server for minutes).
func TestForwardEach_GivenTheHostPortTakenMeanwhile_ThenThePortMovesAndIsForwarded(t *testing.T) {
	n := testNetworks(t)
	s, err := n.acquire("VM Network")
	if err != nil {
		t.Fatal(err)
	}
	squatter, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer squatter.Close()
	taken := squatter.Addr().(*net.TCPAddr).Port
	r := &Runner{opts: Options{Logf: t.Logf}, nets: n}
	g := &guest{name: "web-1", exited: make(chan struct{}), ports: []published{{exposedPort{"tcp", 80}, "127.0.0.1", taken}}, segments: []*segment{s}}
	r.forwardEach(g, s, append([]published(nil), g.ports...), "10.0.2.15")
	if len(g.forwarded) != 1 || g.forwarded[0].HostPort == taken || g.ports[0].HostPort != g.forwarded[0].HostPort {
		t.Fatalf("forwarded %+v, ports %+v: want port 80 forwarded from a port other than the taken %d, and listed", g.forwarded, g.ports, taken)
	}
	conn, err := net.DialTimeout("tcp", fmt.Sprintf("127.0.0.1:%d", g.forwarded[0].HostPort), 2*time.Second)
	if err != nil {
		t.Fatalf("the moved port does not listen: %v", err)
	}
	conn.Close()
	if err := s.unforward(g.forwarded[0]); err != nil {
		t.Error(err)
	}
}

// A port the user asked for (docker run -p 8080:80) is theirs or nothing: taken at power-on, the
// guest does not start, saying so as dockerd does; taken after, it is not moved elsewhere.
func TestPortBindings_GivenAHostPortAskedFor_ThenItIsRefusedWhenTakenAndNeverMoved(t *testing.T) {
	squatter, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer squatter.Close()
	taken := squatter.Addr().(*net.TCPAddr).Port
	asked := published{exposedPort{"tcp", 80}, "127.0.0.1", taken}
	_, err = pickHostPorts([]published{asked})
	if want := fmt.Sprintf("Bind for 127.0.0.1:%d failed: port is already allocated", taken); err == nil || err.Error() != want {
		t.Fatalf("a taken port asked for: %v, want %q", err, want)
	}

	n := testNetworks(t)
	s, err := n.acquire("VM Network")
	if err != nil {
		t.Fatal(err)
	}
	r := &Runner{opts: Options{Logf: t.Logf}, nets: n}
	g := &guest{name: "web-1", exited: make(chan struct{}), ports: []published{asked}, bindings: []published{asked}, segments: []*segment{s}}
	done := make(chan struct{})
	go func() {
		r.forwardEach(g, s, append([]published(nil), g.ports...), "10.0.2.15")
		close(done)
	}()
	select {
	case <-done:
	case <-time.After(60 * time.Second):
		t.Fatal("forwardEach did not give up")
	}
	if len(g.forwarded) != 0 || g.ports[0].HostPort != taken {
		t.Fatalf("forwarded %+v, ports %+v: want nothing forwarded and the asked port %d kept", g.forwarded, g.ports, taken)
	}
}
