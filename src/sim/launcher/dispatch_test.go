package main

import (
	"context"
	"testing"
	"time"

	"github.com/vmware/govmomi"
	"github.com/vmware/govmomi/find"
	"github.com/vmware/govmomi/object"
	"github.com/vmware/govmomi/simulator"
)

// dispatchUnderTest is a simulator of `model` (created here, removed when the test ends) with the
// launcher's dispatch that `install` adds (undone when the test ends), and a client logged in to
// it with a finder set on DC0.
func dispatchUnderTest(t *testing.T, model *simulator.Model, install func()) (context.Context, *govmomi.Client, *find.Finder, *object.Datacenter) {
	t.Helper()
	if err := model.Create(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(model.Remove)
	previous := simulator.Map.Handler
	install()
	t.Cleanup(func() { simulator.Map.Handler = previous })
	server := model.Service.NewServer()
	t.Cleanup(server.Close)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	t.Cleanup(cancel)
	client, err := govmomi.NewClient(ctx, server.URL, true)
	if err != nil {
		t.Fatal(err)
	}
	finder := find.NewFinder(client.Client)
	dc, err := finder.Datacenter(ctx, "DC0")
	if err != nil {
		t.Fatal(err)
	}
	finder.SetDatacenter(dc)
	return ctx, client, finder, dc
}
