package main

import (
	"encoding/json"
	"net/http"
	"sort"
	"strings"
	"sync/atomic"

	"github.com/vmware/govmomi/simulator"
)

const controlPrefix = "/vcsim-control/"

// controlFront sits in front of the simulator's own handler. Control requests under
// /vcsim-control/ are answered here; everything else reaches the simulator.
type controlFront struct {
	model       *simulator.Model
	simulator   http.Handler
	asyncTaskMs atomic.Int64
}

func newControlFront(model *simulator.Model, inner http.Handler) *controlFront {
	return &controlFront{model: model, simulator: inner}
}

func (c *controlFront) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if strings.HasPrefix(r.URL.Path, controlPrefix) {
		c.serveControl(w, r)
		return
	}
	c.simulator.ServeHTTP(w, r)
}

func (c *controlFront) serveControl(w http.ResponseWriter, r *http.Request) {
	route := r.Method + " " + strings.TrimPrefix(r.URL.Path, controlPrefix)
	switch route {
	case "GET info":
		writeJSON(w, http.StatusOK, c.info())
	default:
		writeJSON(w, http.StatusNotFound, map[string]string{
			"error": "no control endpoint " + route + "; see test/vcsim/control.go",
		})
	}
}

type modelInfo struct {
	Datastores map[string]string `json:"datastores"`
	Model      map[string]int    `json:"model"`
}

// info maps each datastore to its local directory, keyed by name, or "<datacenter>/<name>" when
// several datacenters hold a datastore of that name.
func (c *controlFront) info() modelInfo {
	type located struct{ dc, name, dir string }
	var all []located
	seen := map[string]int{}
	for _, entity := range simulator.Map.All("Datacenter") {
		dc := entity.(*simulator.Datacenter)
		for _, ref := range dc.Datastore {
			ds, ok := simulator.Map.Get(ref).(*simulator.Datastore)
			if !ok {
				continue
			}
			all = append(all, located{dc.Name, ds.Name, ds.Info.GetDatastoreInfo().Url})
			seen[ds.Name]++
		}
	}
	sort.Slice(all, func(i, j int) bool { return all[i].dc+"/"+all[i].name < all[j].dc+"/"+all[j].name })
	datastores := map[string]string{}
	for _, ds := range all {
		key := ds.name
		if seen[ds.name] > 1 {
			key = ds.dc + "/" + ds.name
		}
		datastores[key] = ds.dir
	}
	return modelInfo{Datastores: datastores, Model: inventoryCounts()}
}

func inventoryCounts() map[string]int {
	byType := map[string]string{
		"Datacenter":                     "datacenters",
		"ClusterComputeResource":         "clusters",
		"HostSystem":                     "hosts",
		"VirtualMachine":                 "vms",
		"Datastore":                      "datastores",
		"DistributedVirtualPortgroup":    "portgroups",
		"VmwareDistributedVirtualSwitch": "dvs",
		"DistributedVirtualSwitch":       "dvs",
		"Network":                        "networks",
		"ResourcePool":                   "pools",
		"Folder":                         "folders",
		"Task":                           "tasks",
	}
	counts := map[string]int{}
	for _, key := range byType {
		counts[key] = 0
	}
	for kind, key := range byType {
		counts[key] += len(simulator.Map.AllReference(kind))
	}
	return counts
}

func writeJSON(w http.ResponseWriter, status int, value any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(value)
}
