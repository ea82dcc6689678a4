package main

import (
	"fmt"
	"io"
	"net/http"
	"time"

	"github.com/vmware/govmomi/simulator"
	"github.com/vmware/govmomi/vim25/types"
)

// createDateInput is POSTed to /vcsim-control/create-date: the VM and how long ago, on the
// simulator's clock, it is to have been created.
type createDateInput struct {
	VM    string `json:"vm"`
	AgeMs int64  `json:"ageMs"`
}

// vcsim dates a VM's config.createDate when CreateVM_Task runs and offers no way to change it; a
// client that tells a create still running from one left behind long ago by its age is tested
// against a VM made "long ago" by moving that date back.
func (c *controlFront) serveCreateDate(w http.ResponseWriter, r *http.Request) {
	var in createDateInput
	body, err := io.ReadAll(r.Body)
	if err == nil {
		err = strictJSON(body, &in)
	}
	if err == nil && in.AgeMs < 0 {
		err = fmt.Errorf("ageMs: %d is negative; give how many milliseconds ago the VM was created (0 or more)", in.AgeMs)
	}
	if err != nil {
		writeError(w, http.StatusBadRequest, err)
		return
	}
	vm, ok := simulator.Map.Get(types.ManagedObjectReference{Type: "VirtualMachine", Value: in.VM}).(*simulator.VirtualMachine)
	if !ok {
		writeError(w, http.StatusNotFound, fmt.Errorf("vm %q: no such VirtualMachine (give its moref, e.g. vm-57)", in.VM))
		return
	}
	date := time.Now().Add(-time.Duration(in.AgeMs) * time.Millisecond)
	simulator.Map.WithLock(simulator.SpoofContext(), vm, func() { vm.Config.CreateDate = &date })
	writeJSON(w, http.StatusOK, map[string]any{"vm": in.VM, "createDate": date.UTC().Format(time.RFC3339Nano)})
}
