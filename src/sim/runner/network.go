package runner

import (
	"bufio"
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"
)

// One QEMU network per port group, shared by the guests on it, without root, bridges or taps:
//
//   - the segment is a small Ethernet switch in the runner: each guest NIC is a QEMU "-netdev
//     dgram" on a Unix datagram socket that sends its frames to the switch's socket; the switch
//     learns which socket holds which MAC address and passes a unicast frame to that socket
//     only, a broadcast or an unknown destination to every other one. Guests on one port group
//     are thus on one layer-2 network and reach each other;
//   - one more QEMU per port group, with no machine ("-machine none"), joins the switch to a
//     user-mode (slirp) network through an emulated hub: the only DHCP server, gateway and DNS
//     forwarder on the segment, and the way in from the host (hostfwd, added over its monitor
//     once the guest reports its address). A switch, not a hub, is needed because slirp takes
//     every frame it sees as its own: a guest-to-guest TCP segment reaching it would be
//     answered from the host's network.
//
// The switch and its QEMU start with the first guest on the port group and end with the last
// one. A port group keeps its subnet for the runner's life: the n-th port group the runner meets
// is 10.0.(n+1).0/24, so the first one is slirp's usual 10.0.2.0/24 (gateway .2, DNS .3,
// leases from .15).
type networks struct {
	qemu string
	dir  string
	logf func(format string, args ...any)

	mu       sync.Mutex
	index    map[string]int
	segments map[string]*segment
	closed   bool
	// starts numbers each segment's directory: a port group's last guest leaving stops its segment
	// outside the lock, and a guest arriving meanwhile (a VM restarted at once) starts a new one,
	// whose files the old one's clean-up must not remove.
	starts int
}

type segment struct {
	key     string
	index   int
	dir     string
	monitor string
	cmd     *exec.Cmd
	users   int
	exited  chan struct{}
	stderr  *tail
	sw      *ethernetSwitch
	plugs   int // under networks.mu
}

// The highest port group index: 10.0.255.0/24 is the last subnet.
const maxPortGroups = 254

func newNetworks(qemu, dir string, logf func(string, ...any)) *networks {
	return &networks{qemu: qemu, dir: dir, logf: logf, index: map[string]int{}, segments: map[string]*segment{}}
}

func (s *segment) subnet() string { return fmt.Sprintf("10.0.%d.0/24", s.index+1) }

// contains reports whether an address is in the segment's subnet.
func (s *segment) contains(ip string) bool {
	_, n, _ := net.ParseCIDR(s.subnet())
	parsed := net.ParseIP(ip)
	return parsed != nil && n.Contains(parsed)
}

// acquire returns the segment of a port group, starting its hub QEMU for the first guest.
func (n *networks) acquire(key string) (*segment, error) {
	n.mu.Lock()
	defer n.mu.Unlock()
	if n.closed {
		return nil, errors.New("the runner is closing")
	}
	if s := n.segments[key]; s != nil {
		s.users++
		return s, nil
	}
	i, ok := n.index[key]
	if !ok {
		if len(n.index) >= maxPortGroups {
			return nil, fmt.Errorf("more than %d port groups: the simulator's networks are 10.0.2.0/24 to 10.0.255.0/24", maxPortGroups)
		}
		i = len(n.index) + 1
		n.index[key] = i
	}
	n.starts++
	dir := filepath.Join(n.dir, "net"+strconv.Itoa(i)+"."+strconv.Itoa(n.starts))
	s := &segment{
		key:     key,
		index:   i,
		dir:     dir,
		monitor: filepath.Join(dir, "monitor"),
		users:   1,
		exited:  make(chan struct{}),
		stderr:  &tail{},
	}
	if err := n.start(s); err != nil {
		return nil, err
	}
	n.segments[key] = s
	return s, nil
}

func (n *networks) start(s *segment) error {
	_ = os.RemoveAll(s.dir)
	if err := os.MkdirAll(s.dir, 0o700); err != nil {
		return err
	}
	sw, err := startSwitch(filepath.Join(s.dir, "switch"))
	if err != nil {
		return fmt.Errorf("the network of port group %s: %v", s.key, err)
	}
	s.sw = sw
	hub := filepath.Join(s.dir, "uplink")
	sw.attach(hub)
	args := []string{
		"-name", fmt.Sprintf("vic-net%d", s.index),
		"-machine", "none", "-nodefaults", "-no-user-config", "-display", "none",
		"-monitor", "unix:" + qemuValue(s.monitor) + ",server=on,wait=off",
		"-netdev", "user,id=uplink,net=" + s.subnet(),
		"-netdev", "dgram,id=segment,local.type=unix,local.path=" + qemuValue(hub) + ",remote.type=unix,remote.path=" + qemuValue(sw.path),
		"-netdev", "hubport,id=hub0,hubid=0,netdev=uplink",
		"-netdev", "hubport,id=hub1,hubid=0,netdev=segment",
	}
	cmd := exec.Command(n.qemu, args...)
	cmd.Stderr = s.stderr
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL, Setpgid: true}
	if err := cmd.Start(); err != nil {
		sw.close()
		return fmt.Errorf("the network of port group %s: %v", s.key, err)
	}
	s.cmd = cmd
	go func() { _ = cmd.Wait(); close(s.exited) }()
	// The monitor is how published ports get in; a guest may start before it answers, though.
	for deadline := time.Now().Add(10 * time.Second); time.Now().Before(deadline); time.Sleep(20 * time.Millisecond) {
		select {
		case <-s.exited:
			sw.close()
			return fmt.Errorf("the network of port group %s: QEMU ended at once%s", s.key, s.stderr.suffix())
		default:
		}
		if _, err := os.Stat(s.monitor); err == nil {
			break
		}
	}
	n.logf("network %s (port group %s): QEMU pid %d, switch %s", s.subnet(), s.key, cmd.Process.Pid, sw.path)
	return nil
}

// plug attaches a guest's NIC to its segment's switch and says where the NIC's end binds: a
// name of this run's own, as a reset VM's next QEMU may plug in before the last one is unplugged.
func (n *networks) plug(s *segment, vm string, nic int) string {
	n.mu.Lock()
	s.plugs++
	n.mu.Unlock()
	path := filepath.Join(s.dir, fmt.Sprintf("%s-%d-%d", vm, nic, s.plugs))
	_ = os.Remove(path)
	s.sw.attach(path)
	return path
}

// release unplugs a guest's NICs (sockets[i] on segments[i]); the last guest out of a segment
// stops its switch and QEMU.
func (n *networks) release(segments []*segment, sockets []string) {
	for i, s := range segments {
		if i < len(sockets) {
			s.sw.detach(sockets[i])
			_ = os.Remove(sockets[i])
		}
	}
	n.mu.Lock()
	var stop []*segment
	for _, s := range segments {
		s.users--
		if s.users == 0 && n.segments[s.key] == s {
			delete(n.segments, s.key)
			stop = append(stop, s)
		}
	}
	n.mu.Unlock()
	for _, s := range stop {
		s.stop()
	}
}

func (s *segment) stop() {
	_ = s.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-s.exited:
	case <-time.After(stopGrace):
		_ = s.cmd.Process.Kill()
		<-s.exited
	}
	s.sw.close()
	_ = os.RemoveAll(s.dir)
}

// close stops every hub QEMU (the guests are gone by then).
func (n *networks) close() {
	n.mu.Lock()
	n.closed = true
	all := make([]*segment, 0, len(n.segments))
	for _, s := range n.segments {
		all = append(all, s)
	}
	n.segments = map[string]*segment{}
	n.mu.Unlock()
	for _, s := range all {
		s.stop()
	}
}

// forward makes a published port reach the guest at ip, through the segment's slirp. QEMU
// answers nothing when it worked.
func (s *segment) forward(p published, ip string) error {
	command := fmt.Sprintf("hostfwd_add uplink %s:%s:%d-%s:%d", p.Proto, p.hostIP(), p.HostPort, ip, p.Port)
	said, err := s.hmp(command)
	if err == nil && said != "" {
		err = fmt.Errorf("%s: %s", command, said)
	}
	return err
}

func (s *segment) unforward(p published) error {
	command := fmt.Sprintf("hostfwd_remove uplink %s:%s:%d", p.Proto, p.hostIP(), p.HostPort)
	said, err := s.hmp(command)
	if err == nil && !strings.Contains(said, "removed") {
		err = fmt.Errorf("%s: %s", command, said)
	}
	return err
}

// hmp runs one human monitor command and returns what QEMU printed.
func (s *segment) hmp(command string) (string, error) {
	conn, err := net.DialTimeout("unix", s.monitor, 2*time.Second)
	if err != nil {
		return "", err
	}
	defer conn.Close()
	_ = conn.SetDeadline(time.Now().Add(5 * time.Second))
	reader := bufio.NewReader(conn)
	if _, err := readToPrompt(reader); err != nil {
		return "", fmt.Errorf("the monitor of %s: %v", s.subnet(), err)
	}
	if _, err := conn.Write([]byte(command + "\n")); err != nil {
		return "", err
	}
	answer, err := readToPrompt(reader)
	if err != nil {
		return "", fmt.Errorf("the monitor of %s: %v", s.subnet(), err)
	}
	return monitorOutput(answer), nil
}

// monitorOutput drops the monitor's echo of the command line (the first line, redrawn with
// terminal escapes as it was "typed") and keeps what the command printed.
func monitorOutput(answer string) string {
	lines := strings.Split(strings.ReplaceAll(answer, "\r", ""), "\n")
	var said []string
	for _, line := range lines[1:] {
		if line = strings.TrimSpace(line); line != "" {
			said = append(said, line)
		}
	}
	return strings.Join(said, "; ")
}

func readToPrompt(r *bufio.Reader) (string, error) {
	var b strings.Builder
	for {
		c, err := r.ReadByte()
		if err != nil {
			return b.String(), err
		}
		b.WriteByte(c)
		if strings.HasSuffix(b.String(), "(qemu) ") {
			return strings.TrimSuffix(b.String(), "(qemu) "), nil
		}
	}
}

// NetworkInfo is one port group's network as the control API shows it.
type NetworkInfo struct {
	PortGroup string `json:"portGroup"`
	Subnet    string `json:"subnet"`
	Switch    string `json:"switch"`
	PID       int    `json:"pid"`
	Guests    int    `json:"guests"`
}

func (n *networks) list() []NetworkInfo {
	n.mu.Lock()
	defer n.mu.Unlock()
	out := make([]NetworkInfo, 0, len(n.segments))
	for _, s := range n.segments {
		out = append(out, NetworkInfo{PortGroup: s.key, Subnet: s.subnet(), Switch: s.sw.path, PID: s.cmd.Process.Pid, Guests: s.users})
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Subnet < out[j].Subnet })
	return out
}
