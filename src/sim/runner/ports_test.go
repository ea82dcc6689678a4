package runner

import (
	"reflect"
	"testing"
)

func TestParsePortBindings(t *testing.T) {
	got := parsePortBindings("80/tcp=0.0.0.0:8080, 53/udp=127.0.0.1:0,bad,90/sctp=0.0.0.0:1,81/tcp=::1:80,82=10.0.0.1:70000,443=127.0.0.1:8443")
	want := []published{
		{exposedPort{"tcp", 80}, "0.0.0.0", 8080},
		{exposedPort{"udp", 53}, "127.0.0.1", 0},
		{exposedPort{"tcp", 443}, "127.0.0.1", 8443},
	}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("got %+v, want %+v", got, want)
	}
}

func TestPortsToPublish_GivenBindingsAndExposedPorts_ThenTheBindingsWinAndTheRestGoToLocalhost(t *testing.T) {
	got := portsToPublish(
		[]exposedPort{{"tcp", 80}, {"tcp", 443}},
		[]published{{exposedPort{"tcp", 80}, "0.0.0.0", 8080}, {exposedPort{"udp", 53}, "0.0.0.0", 0}},
	)
	want := []published{
		{exposedPort{"tcp", 80}, "0.0.0.0", 8080},
		{exposedPort{"udp", 53}, "0.0.0.0", 0},
		{exposedPort{"tcp", 443}, "127.0.0.1", 0},
	}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("got %+v, want %+v", got, want)
	}
	if s := got[0].String(); s != "80/tcp=0.0.0.0:8080" {
		t.Errorf("String: %q", s)
	}
}
