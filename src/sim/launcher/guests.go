package main

import (
	"encoding/json"
	"flag"
	"fmt"
	"log"
	"net/http"
	"os"
	"path/filepath"
	"strconv"

	"vic-iac/sim/runner"
)

// Running guests is off by default: the API tests and the large-N benchmarks want a pure model.
var (
	runGuests     = flag.Bool("run-guests", false, "run vic container VMs in QEMU when powered on (src/sim/runner)")
	runMaxGuests  = flag.Int("run-max", 2, "with -run-guests: QEMU processes at once; more powered-on VMs wait in a queue")
	runAccel      = flag.String("run-accel", "auto", "with -run-guests: auto (KVM when /dev/kvm is usable, else TCG), kvm or tcg")
	runBoot       = flag.String("run-boot", "kernel", "with -run-guests: kernel (QEMU loads the ISO's kernel and initrd directly) or iso (firmware and boot loader, as ESXi)")
	guestRunner   *runner.Runner
	guestsControl = "/vcsim-control/guests"
)

// startGuests starts the runner when -run-guests is set; the model must exist.
func startGuests() error {
	if !*runGuests {
		return nil
	}
	if *runBoot != "kernel" && *runBoot != "iso" {
		return fmt.Errorf("-run-boot %q: use kernel or iso", *runBoot)
	}
	var err error
	guestRunner, err = runner.Start(runner.Options{
		ISOBoot:    *runBoot == "iso",
		MaxRunning: *runMaxGuests,
		Accel:      *runAccel,
		StateDir:   filepath.Join(os.TempDir(), "vic-runner-"+strconv.Itoa(os.Getpid())),
		Logf:       log.Printf,
	})
	return err
}

// stopGuests ends every QEMU process; called before the model's datastores are removed.
func stopGuests() {
	if guestRunner != nil {
		guestRunner.Close()
	}
}

// withGuestsControl serves GET /vcsim-control/guests: whether guests run, and the QEMU process
// of each powered-on VM (tests use the pids to kill one from outside and to check for leaks).
func withGuestsControl(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != guestsControl {
			next.ServeHTTP(w, r)
			return
		}
		if r.Method != http.MethodGet {
			http.Error(w, "use GET", http.StatusMethodNotAllowed)
			return
		}
		body := map[string]any{"enabled": guestRunner != nil, "guests": []runner.GuestInfo{}}
		if guestRunner != nil {
			body["accel"] = guestRunner.Accel()
			body["maxRunning"] = *runMaxGuests
			body["guests"] = guestRunner.Guests()
			body["networks"] = guestRunner.Networks()
		}
		w.Header().Set("Content-Type", "application/json")
		_ = json.NewEncoder(w).Encode(body)
	})
}
