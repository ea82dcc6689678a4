package main

import (
	"strings"
	"testing"
)

func TestHostFiles_GivenLeases_ThenHostsAndResolvConfAsDocker(t *testing.T) {
	leases := []NetworkLease{
		{Interface: "eth0", Address: "10.0.2.15/24", Gateway: "10.0.2.2", DNS: []string{"10.0.2.3"}},
		{Interface: "eth1", Address: "192.168.7.5/24", DNS: []string{"10.0.2.3", "1.1.1.1"}},
	}
	if got := HostsFile([]string{"web-1"}, leases, nil); !strings.Contains(got, "127.0.0.1\tlocalhost\n") || !strings.HasSuffix(got, "10.0.2.15\tweb-1\n") {
		t.Errorf("hosts:\n%s", got)
	}
	if got := ResolvConf(leases); got != "nameserver 10.0.2.3\nnameserver 1.1.1.1\n" {
		t.Errorf("resolv.conf:\n%s", got)
	}
	if got := strings.Join(Addresses(leases), ","); got != "10.0.2.15,192.168.7.5" {
		t.Errorf("addresses %s", got)
	}
	if got := HostsFile([]string{"lonely"}, nil, nil); !strings.HasSuffix(got, "127.0.1.1\tlonely\n") {
		t.Errorf("hosts without a network:\n%s", got)
	}
	extra := []HostsLine{{Address: "10.0.0.5", Names: []string{"db.local"}}, {Address: "fd00::5", Names: []string{"api", "web-api"}}}
	if got := HostsFile([]string{"web-1"}, leases, extra); !strings.HasSuffix(got, "10.0.2.15\tweb-1\n10.0.0.5\tdb.local\nfd00::5\tapi web-api\n") {
		t.Errorf("THEN the config's lines after the container's own:\n%s", got)
	}
}

func TestParseConfig_GivenHosts_ThenTheyAreKeptAndBadOnesNamed(t *testing.T) {
	cfg, err := ParseConfig([]byte(`{"version":1,"cmd":["x"],"rootfs":{"label":"vic-rootfs"},"hosts":[{"address":"10.0.0.5","names":["db.local"]}]}`))
	if err != nil || len(cfg.Hosts) != 1 || cfg.Hosts[0].Names[0] != "db.local" {
		t.Fatalf("THEN the line is kept, got %+v %v", cfg.Hosts, err)
	}
	_, err = ParseConfig([]byte(`{"version":1,"cmd":["x"],"rootfs":{"label":"vic-rootfs"},"hosts":[{"address":"nope","names":["a"]},{"address":"10.0.0.6","names":[]},{"address":"10.0.0.7","names":["a b"]}]}`))
	for _, want := range []string{`"hosts[0].address": "nope"`, `"hosts[1].names" is empty`, `"hosts[2].names[0]": "a b"`} {
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("THEN %s is named, got %v", want, err)
		}
	}
}

func TestParseConfig_GivenBadStaticNetworks_ThenEachFieldIsNamed(t *testing.T) {
	_, err := ParseConfig([]byte(`{"version":1,"cmd":["x"],"rootfs":{"label":"vic-rootfs"},"networks":[{"address":"10.0.0.5"},{"address":"10.0.0.6/24","gateway":"nope","dns":["1.1.1.1","x"]}]}`))
	for _, want := range []string{`"networks[0].address": "10.0.0.5"`, `"networks[1].gateway": "nope"`, `"networks[1].dns[1]": "x"`} {
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("error %v, want it to name %s", err, want)
		}
	}
}

func TestEnoughNICs_GivenWhatTheConfigSays_ThenTheWaitEnds(t *testing.T) {
	cases := []struct {
		have, want int
		enough     bool
	}{
		{0, -1, false}, {1, -1, true}, {0, 0, true}, {1, 2, false}, {2, 2, true}, {3, 2, true},
	}
	for _, c := range cases {
		if got := enoughNICs(c.have, c.want); got != c.enough {
			t.Errorf("enoughNICs(%d, %d) = %v, want %v", c.have, c.want, got, c.enough)
		}
	}
}

func TestOwnNames_GivenAHostNameOtherThanTheName_ThenTheNameIsOnTheOwnLine(t *testing.T) {
	leases := []NetworkLease{{Interface: "eth0", Address: "10.0.2.15/24"}}
	cfg := Config{Name: "web", Hostname: "2ec4c9037d63"}
	if got := HostsFile(append([]string{cfg.Hostname}, cfg.OwnNames()...), leases, nil); !strings.HasSuffix(got, "10.0.2.15\t2ec4c9037d63 web\n") {
		t.Errorf("THEN its host name, then its name:\n%s", got)
	}
	for _, same := range []Config{{Name: "web", Hostname: "web"}, {Name: "", Hostname: "h"}, {Name: "a b", Hostname: "h"}} {
		if names := same.OwnNames(); len(names) != 0 {
			t.Errorf("GIVEN %+v THEN no other name, got %v", same, names)
		}
	}
}

func TestNetworksReport_GivenLeases_ThenEachNICByIndexWithPrefixGatewayAndMAC(t *testing.T) {
	leases := []NetworkLease{
		{Index: 0, Interface: "eth0", Address: "10.0.2.15/24", Gateway: "10.0.2.2", MAC: "00:0c:29:35:31:63"},
		// eth1 got no lease: eth2 keeps its own place.
		{Index: 2, Interface: "eth2", Address: "192.168.7.5/20"},
		{Index: 3, Interface: "eth3", Address: "no address"},
	}
	want := "0;10.0.2.15/24;10.0.2.2;00:0c:29:35:31:63,2;192.168.7.5/20;;"
	if got := NetworksReport(leases); got != want {
		t.Errorf("got %q, want %q", got, want)
	}
	if got := NetworksReport(nil); got != "" {
		t.Errorf("THEN no NIC reports nothing, got %q", got)
	}
	if got := (ContainerStatus{State: "running", Networks: want}).Fields()["networks"]; got != want {
		t.Errorf("THEN the status carries it as networks, got %q", got)
	}
}
