package main

import (
	"context"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
	"time"
)

const (
	// busybox in the initramfs: udhcpc and ip configure the NICs before the switch of root, so the
	// container image needs neither.
	initramfsBusybox = "/bin/busybox"
	dhcpScript       = "/run/vic-udhcpc.sh"
	// NICs appear right after their drivers load; a VM without any has no network.
	nicWait = 1500 * time.Millisecond
	// nicWaitKnown bounds the wait when the config says how many NICs there are: each is expected.
	nicWaitKnown = 5 * time.Second
)

// NetworkLease is what one NIC ended up with.
type NetworkLease struct {
	// Index is the NIC's place among the VM's NICs (0: the first), as the config's Networks are.
	Index     int
	Interface string
	Address   string // CIDR
	Gateway   string
	DNS       []string
	// MAC is the NIC's hardware address, the one vSphere gave the virtual card.
	MAC string
}

// udhcpc calls the script with the lease in its environment; the script applies it and leaves
// it in a file the tether reads.
const dhcpScriptText = `#!/bin/busybox sh
case "$1" in
bound|renew)
  /bin/busybox ip addr flush dev "$interface"
  /bin/busybox ip addr add "$ip/${mask:-24}" dev "$interface"
  /bin/busybox ip link set "$interface" up
  for r in $router; do /bin/busybox ip route add default via "$r" dev "$interface" && break; done
  echo "$ip/${mask:-24} ${router%% *} $dns" > "/run/vic-lease-$interface"
  ;;
esac
exit 0
`

// setupNetwork brings up lo and every NIC: a static address from the config, else DHCP.
func setupNetwork(cfg Config) []NetworkLease {
	_ = os.MkdirAll("/run", 0o755)
	if out, err := busybox("ip", "link", "set", "lo", "up"); err != nil {
		logf("network: lo: %v: %s", err, lastLine(out))
	}
	nics := waitForNICs(cfg.NICs)
	if len(nics) == 0 {
		return nil
	}
	if err := os.WriteFile(dhcpScript, []byte(dhcpScriptText), 0o755); err != nil {
		logf("network: cannot write the DHCP script: %v", err)
		return nil
	}
	var leases []NetworkLease
	for i, nic := range nics {
		var want NetworkConfig
		if i < len(cfg.Networks) {
			want = cfg.Networks[i]
		}
		lease, err := configureNIC(nic, want)
		if err != nil {
			logf("network: %s: %v", nic, err)
			continue
		}
		lease.Index = i
		lease.MAC = macOf(nic)
		how := "DHCP"
		if want.Address != "" {
			how = "static"
		}
		logf("network: %s %s (%s, gateway %s, dns %s)", nic, lease.Address, how, orNone(lease.Gateway), orNone(strings.Join(lease.DNS, " ")))
		leases = append(leases, lease)
	}
	return leases
}

// waitForNICs is the VM's NICs once `want` of them have appeared (-1: not said, the first that
// does), or whatever there is at the deadline; none at once when the VM has none.
func waitForNICs(want int) []string {
	if want == 0 {
		return nil
	}
	wait := nicWait
	if want > 0 {
		wait = nicWaitKnown
	}
	deadline := time.Now().Add(wait)
	for {
		var nics []string
		entries, _ := os.ReadDir("/sys/class/net")
		for _, e := range entries {
			if e.Name() != "lo" {
				nics = append(nics, e.Name())
			}
		}
		if enoughNICs(len(nics), want) || time.Now().After(deadline) {
			sort.Strings(nics)
			return nics
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// enoughNICs says whether `have` NICs are all the tether waits for: `want` of them, or any at all
// when the config does not say how many (-1).
func enoughNICs(have, want int) bool {
	if want < 0 {
		return have > 0
	}
	return have >= want
}

func configureNIC(nic string, want NetworkConfig) (NetworkLease, error) {
	if want.Address != "" {
		steps := [][]string{{"ip", "addr", "add", want.Address, "dev", nic}, {"ip", "link", "set", nic, "up"}}
		if want.Gateway != "" {
			steps = append(steps, []string{"ip", "route", "add", "default", "via", want.Gateway, "dev", nic})
		}
		for _, step := range steps {
			if out, err := busybox(step...); err != nil {
				return NetworkLease{}, fmt.Errorf("%s: %v: %s", strings.Join(step, " "), err, strings.TrimSpace(out))
			}
		}
		return NetworkLease{Interface: nic, Address: want.Address, Gateway: want.Gateway, DNS: want.DNS}, nil
	}
	// udhcpc does not raise the link itself; on a down link it only retries its socket.
	if out, err := busybox("ip", "link", "set", nic, "up"); err != nil {
		return NetworkLease{}, fmt.Errorf("ip link set %s up: %v: %s", nic, err, lastLine(out))
	}
	out, err := busybox("udhcpc", "-i", nic, "-f", "-q", "-n", "-t", "5", "-T", "1", "-s", dhcpScript)
	if err != nil {
		return NetworkLease{}, fmt.Errorf("no DHCP lease (%v): %s", err, lastLine(out))
	}
	raw, err := os.ReadFile(filepath.Join("/run", "vic-lease-"+nic))
	if err != nil {
		return NetworkLease{}, fmt.Errorf("DHCP gave no lease file: %v", err)
	}
	fields := strings.Fields(string(raw))
	lease := NetworkLease{Interface: nic}
	if len(fields) > 0 {
		lease.Address = fields[0]
	}
	if len(fields) > 1 {
		lease.Gateway = fields[1]
	}
	if len(fields) > 2 {
		lease.DNS = fields[2:]
	}
	if len(want.DNS) > 0 {
		lease.DNS = want.DNS
	}
	return lease, nil
}

// macOf is a NIC's hardware address as the kernel has it, empty when it cannot be read.
func macOf(nic string) string {
	raw, err := os.ReadFile(filepath.Join("/sys/class/net", nic, "address"))
	if err != nil {
		return ""
	}
	return strings.TrimSpace(string(raw))
}

// writeHostFiles gives the container its /etc/hostname, /etc/hosts and /etc/resolv.conf, as
// Docker does; called inside the container root. Failures are logged, not fatal.
func writeHostFiles(hostname string, names []string, leases []NetworkLease, extra []HostsLine) {
	if err := os.MkdirAll("/etc", 0o755); err != nil {
		logf("network: cannot create /etc: %v", err)
		return
	}
	files := map[string]string{"/etc/hostname": hostname + "\n", "/etc/hosts": HostsFile(append([]string{hostname}, names...), leases, extra)}
	if resolv := ResolvConf(leases); resolv != "" {
		files["/etc/resolv.conf"] = resolv
	}
	for path, text := range files {
		_ = os.Remove(path) // a symlink in the image must not redirect the write
		if err := os.WriteFile(path, []byte(text), 0o644); err != nil {
			logf("network: cannot write %s: %v", path, err)
		}
	}
}

// HostsFile maps localhost, and the container's own names (its host name first) to its first
// address, then adds the config's lines (docker's --add-host, the peers named at the start), as
// Docker writes them.
func HostsFile(own []string, leases []NetworkLease, extra []HostsLine) string {
	var b strings.Builder
	b.WriteString("127.0.0.1\tlocalhost\n::1\tlocalhost ip6-localhost ip6-loopback\n")
	ip := firstAddress(leases)
	if ip == "" {
		ip = "127.0.1.1"
	}
	fmt.Fprintf(&b, "%s\t%s\n", ip, strings.Join(own, " "))
	for _, h := range extra {
		fmt.Fprintf(&b, "%s\t%s\n", h.Address, strings.Join(h.Names, " "))
	}
	return b.String()
}

// ResolvConf lists the name servers of every lease, once each.
func ResolvConf(leases []NetworkLease) string {
	seen := map[string]bool{}
	var b strings.Builder
	for _, l := range leases {
		for _, d := range l.DNS {
			if !seen[d] {
				seen[d] = true
				fmt.Fprintf(&b, "nameserver %s\n", d)
			}
		}
	}
	return b.String()
}

// Addresses are the leases' IPs without prefix lengths, for the status report.
func Addresses(leases []NetworkLease) []string {
	var ips []string
	for _, l := range leases {
		if ip, _, err := net.ParseCIDR(l.Address); err == nil {
			ips = append(ips, ip.String())
		}
	}
	return ips
}

// NetworksReport is the leases as the status's `networks` value: one entry per NIC that has an
// address, "<index>;<address/prefix>;<gateway>;<mac>" (empty where unknown), joined by ",". It
// holds no spaces, as every status value.
func NetworksReport(leases []NetworkLease) string {
	entries := make([]string, 0, len(leases))
	for _, l := range leases {
		if _, _, err := net.ParseCIDR(l.Address); err != nil {
			continue
		}
		entries = append(entries, fmt.Sprintf("%d;%s;%s;%s", l.Index, l.Address, l.Gateway, l.MAC))
	}
	return strings.Join(entries, ",")
}

func firstAddress(leases []NetworkLease) string {
	if ips := Addresses(leases); len(ips) > 0 {
		return ips[0]
	}
	return ""
}

func orNone(s string) string {
	if s == "" {
		return "none"
	}
	return s
}

func lastLine(s string) string {
	lines := strings.Split(strings.TrimSpace(s), "\n")
	return lines[len(lines)-1]
}

// busybox runs an applet of the initramfs busybox, bounded in time: the boot must go on even if
// a network step hangs.
func busybox(args ...string) (string, error) {
	ctx, cancel := context.WithTimeout(context.Background(), busyboxTimeout)
	defer cancel()
	cmd := exec.CommandContext(ctx, initramfsBusybox, args...)
	out, err := cmd.CombinedOutput()
	if ctx.Err() != nil {
		return string(out), fmt.Errorf("still running after %s", busyboxTimeout)
	}
	return string(out), err
}

const busyboxTimeout = 15 * time.Second
