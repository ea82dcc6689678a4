// Command vcsim-launcher runs govmomi's vSphere simulator as the vic-iac test vCenter.
//
// It prints exactly one JSON line on stdout once the server accepts connections (the "ready
// line"); everything else goes to stderr. It serves a control API under /vcsim-control/ on the
// same port (see control.go) and removes its temporary datastores on SIGTERM and SIGINT.
package main

import (
	"crypto/sha256"
	"crypto/tls"
	"encoding/json"
	"encoding/pem"
	"flag"
	"fmt"
	"log"
	"net"
	"net/url"
	"os"
	"os/signal"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/vmware/govmomi/simulator"
)

// readyLine is the launcher's contract with src/sim/simulator.ts: one JSON object, one line.
type readyLine struct {
	URL        string `json:"url"`
	Thumbprint string `json:"thumbprint,omitempty"`
	CertFile   string `json:"certFile,omitempty"`
	PID        int    `json:"pid"`
	StartupMs  int64  `json:"startupMs"`
}

type launcherFlags struct {
	listen        string
	tls           bool
	tlsCert       string
	tlsKey        string
	certFile      string
	username      string
	password      string
	dvs           bool
	methodDelay   string
	asyncTasks    time.Duration
	idleTimeout   time.Duration
	shutdownLimit time.Duration
}

func main() {
	started := time.Now()
	log.SetPrefix("vcsim-launcher: ")
	log.SetFlags(log.Ltime | log.Lmicroseconds)

	model := simulator.VPX()
	model.Machine = 0 // model VMs make startup slow; tests create the VMs they need
	var f launcherFlags
	flag.IntVar(&model.Datacenter, "dc", model.Datacenter, "number of datacenters")
	flag.IntVar(&model.Cluster, "cluster", model.Cluster, "number of clusters per datacenter")
	flag.IntVar(&model.ClusterHost, "host", model.ClusterHost, "number of hosts per cluster")
	flag.IntVar(&model.Host, "standalone-host", model.Host, "number of standalone hosts per datacenter")
	flag.IntVar(&model.Datastore, "ds", model.Datastore, "number of local datastores per datacenter")
	flag.IntVar(&model.Portgroup, "pg", model.Portgroup, "number of distributed port groups per datacenter (needs -dvs)")
	flag.BoolVar(&f.dvs, "dvs", true, "create a distributed virtual switch with -pg port groups; false leaves only the standard \"VM Network\"")
	flag.IntVar(&model.Machine, "vm", model.Machine, "number of model VMs per resource pool and standalone host")
	flag.IntVar(&model.Pool, "pool", model.Pool, "number of child resource pools per compute resource")
	flag.IntVar(&model.Folder, "folder", model.Folder, "number of extra folders")
	flag.BoolVar(&model.Autostart, "autostart", model.Autostart, "power on model VMs")
	flag.StringVar(&model.ServiceContent.About.ApiVersion, "api-version", model.ServiceContent.About.ApiVersion, "API version reported")
	flag.StringVar(&f.listen, "l", "127.0.0.1:0", "listen address; port 0 picks a free port")
	flag.BoolVar(&f.tls, "tls", false, "serve HTTPS with a self-signed certificate (SAN 127.0.0.1, ::1)")
	flag.StringVar(&f.tlsCert, "tlscert", "", "PEM certificate to serve instead of the built-in one (with -tlskey)")
	flag.StringVar(&f.tlsKey, "tlskey", "", "PEM private key for -tlscert")
	flag.StringVar(&f.certFile, "cert-file", "", "write the served certificate as PEM to this file (for pinning)")
	flag.StringVar(&f.username, "username", "", "accepted login user; unset accepts any non-empty pair")
	flag.StringVar(&f.password, "password", "", "accepted login password (with -username); prefer $VCSIM_PASSWORD, which keeps it out of ps")
	flag.IntVar(&model.DelayConfig.Delay, "delay", 0, "milliseconds added to every SOAP call")
	flag.StringVar(&f.methodDelay, "method-delay", "", "per-method delays, e.g. 'PowerOnVM_Task:500,Login:200'")
	flag.Float64Var(&model.DelayConfig.DelayJitter, "delay-jitter", 0, "delay jitter as a coefficient of variation")
	flag.DurationVar(&f.asyncTasks, "async-tasks", 0, "run every *_Task asynchronously over this duration (queued, running, progress)")
	flag.DurationVar(&f.idleTimeout, "session-idle-timeout", 0, "expire idle sessions after this duration (0: never)")
	flag.DurationVar(&f.shutdownLimit, "shutdown-timeout", 3*time.Second, "how long to wait for in-flight calls on shutdown")
	flag.BoolVar(&simulator.Trace, "trace", false, "trace SOAP traffic to stderr")
	flag.Parse()

	if flag.NArg() > 0 {
		log.Fatalf("unexpected arguments %q: every option is a -flag (see -help)", flag.Args())
	}
	if f.password == "" && f.username != "" {
		f.password = os.Getenv("VCSIM_PASSWORD")
	}
	if f.password != "" && f.username == "" {
		log.Fatal("-password needs -username")
	}
	if !f.dvs {
		// the model only builds its DVS when it has port groups to put on it
		model.Portgroup = 0
	}
	methodDelay, err := parseMethodDelay(f.methodDelay)
	if err != nil {
		log.Fatal(err)
	}
	model.DelayConfig.MethodDelay = methodDelay
	simulator.SessionIdleTimeout = f.idleTimeout
	if simulator.Trace {
		simulator.TraceFile = os.Stderr
	}

	// The server panics on a bad address after the model exists, leaking its datastore dirs: check first.
	if probe, err := net.Listen("tcp", f.listen); err != nil {
		log.Fatalf("cannot listen on -l %s: %v", f.listen, err)
	} else {
		_ = probe.Close()
	}

	if err := model.Create(); err != nil {
		model.Remove()
		log.Fatalf("creating the inventory model: %v", err)
	}

	diskManager := simulatorDiskManager()
	if err := startGuests(); err != nil {
		model.Remove()
		log.Fatalf("-run-guests: %v", err)
	}
	// After the guest runner's own wrapper, which it keeps calling (see diskconvert.go).
	installDiskConversion(diskManager)
	installParentDiskCheck()
	installPoolMove()

	model.Service.Listen = &url.URL{Host: f.listen}
	if f.username != "" {
		model.Service.Listen.User = url.UserPassword(f.username, f.password)
	}
	if f.tls {
		model.Service.TLS = new(tls.Config)
		if f.tlsCert != "" {
			pair, err := tls.LoadX509KeyPair(f.tlsCert, f.tlsKey)
			if err != nil {
				model.Remove()
				log.Fatalf("loading -tlscert %s / -tlskey %s: %v", f.tlsCert, f.tlsKey, err)
			}
			model.Service.TLS.Certificates = []tls.Certificate{pair}
		}
	}
	// Mounts the /rest and /pbm services imported in endpoints.go.
	model.Service.RegisterEndpoints = true
	server := model.Service.NewServer()

	front := newControlFront(model, server.Config.Handler)
	front.asyncTaskMs.Store(f.asyncTasks.Milliseconds())
	// Swapped before the ready line is printed, so no client has seen the port yet.
	server.Config.Handler = withGuestsControl(front)

	ready := readyLine{PID: os.Getpid()}
	publicURL := *server.URL
	publicURL.User = nil // credentials never travel in the ready line
	ready.URL = publicURL.String()
	if f.tls {
		cert := server.Certificate()
		ready.Thumbprint = sha256Thumbprint(cert.Raw)
		if f.certFile != "" {
			pemBytes := pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: cert.Raw})
			if err := os.WriteFile(f.certFile, pemBytes, 0o644); err != nil {
				shutdown(server, model, f.shutdownLimit)
				log.Fatalf("writing -cert-file %s: %v", f.certFile, err)
			}
			ready.CertFile = f.certFile
		} else if ready.CertFile, err = server.CertificateFile(); err != nil {
			shutdown(server, model, f.shutdownLimit)
			log.Fatalf("writing the certificate file: %v", err)
		}
	}
	ready.StartupMs = time.Since(started).Milliseconds()

	signals := make(chan os.Signal, 1)
	signal.Notify(signals, syscall.SIGINT, syscall.SIGTERM)

	line, _ := json.Marshal(ready)
	if _, err := fmt.Fprintf(os.Stdout, "%s\n", line); err != nil {
		shutdown(server, model, f.shutdownLimit)
		log.Fatalf("writing the ready line: %v", err)
	}
	log.Printf("serving %s (pid %d, started in %d ms)", ready.URL, ready.PID, ready.StartupMs)

	got := <-signals
	log.Printf("%s: shutting down", got)
	shutdown(server, model, f.shutdownLimit)
}

// shutdown closes the server, but never waits longer than limit for in-flight calls (a
// WaitForUpdatesEx can hold a request open for minutes), then deletes the datastore temp dirs.
func shutdown(server *simulator.Server, model *simulator.Model, limit time.Duration) {
	closed := make(chan struct{})
	go func() {
		server.Close()
		close(closed)
	}()
	select {
	case <-closed:
	case <-time.After(limit):
		log.Printf("in-flight calls still open after %s; removing the model anyway", limit)
	}
	stopGuests()
	model.Remove()
}

// sha256Thumbprint formats a certificate fingerprint the way vSphere shows it: AA:BB:...
func sha256Thumbprint(der []byte) string {
	sum := sha256.Sum256(der)
	hexPairs := make([]string, len(sum))
	for i, b := range sum {
		hexPairs[i] = fmt.Sprintf("%02X", b)
	}
	return strings.Join(hexPairs, ":")
}

func parseMethodDelay(spec string) (map[string]int, error) {
	delays := map[string]int{}
	if strings.TrimSpace(spec) == "" {
		return delays, nil
	}
	for _, entry := range strings.Split(spec, ",") {
		name, ms, ok := strings.Cut(strings.TrimSpace(entry), ":")
		if !ok || name == "" {
			return nil, fmt.Errorf("-method-delay entry %q: want Method:milliseconds", entry)
		}
		n, err := strconv.Atoi(ms)
		if err != nil || n < 0 {
			return nil, fmt.Errorf("-method-delay entry %q: %q is not a non-negative number of milliseconds", entry, ms)
		}
		delays[name] = n
	}
	return delays, nil
}
