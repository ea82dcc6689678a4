package runner

import (
	"net"
	"path/filepath"
	"sort"
	"testing"
)

func names(addrs []*net.UnixAddr) []string {
	out := make([]string, 0, len(addrs))
	for _, a := range addrs {
		out = append(out, a.Name)
	}
	sort.Strings(out)
	return out
}

func TestSwitch_GivenLearntAddresses_ThenUnicastGoesToOnePortAndBroadcastToTheOthers(t *testing.T) {
	sw, err := startSwitch(filepath.Join(t.TempDir(), "switch"))
	if err != nil {
		t.Fatal(err)
	}
	defer sw.close()
	for _, p := range []string{"a", "b", "uplink"} {
		sw.attach(p)
	}
	macA := [6]byte{0x00, 0x0c, 0x29, 0, 0, 0xa}
	macB := [6]byte{0x00, 0x0c, 0x29, 0, 0, 0xb}
	broadcast := [6]byte{0xff, 0xff, 0xff, 0xff, 0xff, 0xff}
	check := func(what string, got []*net.UnixAddr, want ...string) {
		t.Helper()
		if g := names(got); len(g) != len(want) || (len(want) > 0 && !equal(g, want)) {
			t.Errorf("%s: to %v, want %v", what, g, want)
		}
	}
	check("a broadcast from a (DHCP)", sw.route("a", macA, broadcast), "b", "uplink")
	check("a frame to an unknown address", sw.route("b", macB, [6]byte{2, 0, 0, 0, 0, 1}), "a", "uplink")
	check("a frame to a learnt address", sw.route("b", macB, macA), "a")
	check("a frame back", sw.route("a", macA, macB), "b")
	check("a frame from a port that is not attached", sw.route("gone", [6]byte{2, 0, 0, 0, 0, 9}, macA))
	sw.detach("a")
	check("a frame to a port that left", sw.route("b", macB, macA), "uplink")
}

func equal(a, b []string) bool {
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return len(a) == len(b)
}
