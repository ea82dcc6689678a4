package runner

import (
	"net"
	"os"
	"sync"
)

// ethernetSwitch passes Ethernet frames between the Unix datagram sockets of one port group's
// QEMU NICs (and its slirp), as a learning switch does: a unicast frame goes to the socket its
// destination MAC address was last seen on, anything else to every other attached socket.
type ethernetSwitch struct {
	path string
	conn *net.UnixConn

	mu    sync.Mutex
	ports map[string]*net.UnixAddr
	macs  map[[6]byte]string
	done  chan struct{}
}

func startSwitch(path string) (*ethernetSwitch, error) {
	_ = os.Remove(path)
	conn, err := net.ListenUnixgram("unixgram", &net.UnixAddr{Name: path, Net: "unixgram"})
	if err != nil {
		return nil, err
	}
	sw := &ethernetSwitch{path: path, conn: conn, ports: map[string]*net.UnixAddr{}, macs: map[[6]byte]string{}, done: make(chan struct{})}
	go sw.loop()
	return sw, nil
}

// attach adds a port: the socket a QEMU netdev binds (it may not exist yet).
func (sw *ethernetSwitch) attach(path string) {
	sw.mu.Lock()
	defer sw.mu.Unlock()
	sw.ports[path] = &net.UnixAddr{Name: path, Net: "unixgram"}
}

// detach removes a port and forgets the addresses learnt on it.
func (sw *ethernetSwitch) detach(path string) {
	sw.mu.Lock()
	defer sw.mu.Unlock()
	delete(sw.ports, path)
	for mac, port := range sw.macs {
		if port == path {
			delete(sw.macs, mac)
		}
	}
}

func (sw *ethernetSwitch) close() {
	_ = sw.conn.Close()
	<-sw.done
	_ = os.Remove(sw.path)
}

func (sw *ethernetSwitch) loop() {
	defer close(sw.done)
	buf := make([]byte, 65536)
	for {
		n, from, err := sw.conn.ReadFromUnix(buf)
		if err != nil {
			return
		}
		// Shorter than an Ethernet header, or from a socket that is not attached (a guest
		// already stopped): nothing to pass on.
		if n < 14 || from == nil {
			continue
		}
		frame := buf[:n]
		var dst, src [6]byte
		copy(dst[:], frame[0:6])
		copy(src[:], frame[6:12])
		for _, to := range sw.route(from.Name, src, dst) {
			// A port whose QEMU is gone (or not bound yet) refuses: the frame is lost, as on a wire.
			_, _ = sw.conn.WriteToUnix(frame, to)
		}
	}
}

// route learns where src is and says where a frame to dst goes.
func (sw *ethernetSwitch) route(from string, src, dst [6]byte) []*net.UnixAddr {
	sw.mu.Lock()
	defer sw.mu.Unlock()
	if _, ok := sw.ports[from]; !ok {
		return nil
	}
	if src[0]&1 == 0 {
		sw.macs[src] = from
	}
	if dst[0]&1 == 0 {
		if port, ok := sw.macs[dst]; ok {
			if port == from {
				return nil
			}
			return []*net.UnixAddr{sw.ports[port]}
		}
	}
	out := make([]*net.UnixAddr, 0, len(sw.ports))
	for path, addr := range sw.ports {
		if path != from {
			out = append(out, addr)
		}
	}
	return out
}
