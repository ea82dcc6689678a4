package main

import (
	"encoding/base64"
	"encoding/binary"
	"errors"
	"fmt"
	"strings"
)

// The VMware backdoor: an `in eax, dx` on a magic I/O port traps to the hypervisor, which reads
// and writes the general registers. "RPCI" is the guest-to-host message protocol over it (the one
// vmware-rpctool speaks). Constants from open-vm-tools' backdoor_def.h and guest_msg_def.h.
const (
	backdoorMagic      = 0x564D5868 // "VMXh"
	backdoorPort       = 0x5658     // low-bandwidth port: 4 bytes per trap
	backdoorGetVersion = 0x0A
	backdoorMessage    = 0x1E

	messageOpen        = 0
	messageSendSize    = 1
	messageSendPayload = 2
	messageRecvSize    = 3
	messageRecvPayload = 4
	messageRecvStatus  = 5
	messageClose       = 6

	messageStatusSuccess    = 0x0001
	messageStatusDoRecv     = 0x0002
	messageStatusCheckpoint = 0x0010

	rpciProtocol       = 0x49435052 // "RPCI"
	guestMsgFlagCookie = 0x80000000

	// A reply bigger than this is not a config; it bounds the receive loop.
	maxRPCReply = 1 << 20
)

// backdoorRegisters is the register file the trap reads and writes. The field order is the
// assembly's contract (backdoor_amd64.s).
type backdoorRegisters struct {
	ax, bx, cx, dx, si, di uint64
}

// backdoorPorts performs one low-bandwidth backdoor trap. The hardware implementation is in
// backdoor_linux_amd64.go; the unit tests play the hypervisor.
type backdoorPorts interface {
	trap(r *backdoorRegisters)
}

// errRPCCheckpoint means the VM was checkpointed (snapshot, vMotion) mid-message; the channel is
// gone and the whole call must be retried.
var errRPCCheckpoint = errors.New("VMware RPC interrupted by a VM checkpoint")

// IsVMware asks the backdoor for its version; only a VMware hypervisor answers with the magic.
func IsVMware(ports backdoorPorts) bool {
	r := backdoorRegisters{ax: backdoorMagic, bx: ^uint64(backdoorMagic) & 0xffffffff, cx: backdoorGetVersion, dx: backdoorPort}
	ports.trap(&r)
	return uint32(r.bx) == backdoorMagic && uint32(r.ax) != 0xffffffff
}

type rpcChannel struct {
	ports                 backdoorPorts
	id                    uint16
	cookieHigh, cookieLow uint32
}

func (c *rpcChannel) message(sub uint16, bx uint32) backdoorRegisters {
	r := backdoorRegisters{
		ax: backdoorMagic,
		bx: uint64(bx),
		cx: uint64(sub)<<16 | backdoorMessage,
		dx: uint64(c.id)<<16 | backdoorPort,
		si: uint64(c.cookieHigh),
		di: uint64(c.cookieLow),
	}
	c.ports.trap(&r)
	return r
}

func messageStatus(r backdoorRegisters) uint16 { return uint16(r.cx >> 16) }

func openRPCChannel(ports backdoorPorts) (*rpcChannel, error) {
	c := &rpcChannel{ports: ports}
	r := c.message(messageOpen, rpciProtocol|guestMsgFlagCookie)
	if messageStatus(r)&messageStatusSuccess == 0 {
		return nil, fmt.Errorf("VMware RPC: opening an RPCI channel failed (status %#x)", messageStatus(r))
	}
	c.id = uint16(r.dx >> 16)
	c.cookieHigh, c.cookieLow = uint32(r.si), uint32(r.di)
	return c, nil
}

func (c *rpcChannel) send(msg []byte) error {
	r := c.message(messageSendSize, uint32(len(msg)))
	if messageStatus(r)&messageStatusSuccess == 0 {
		return fmt.Errorf("VMware RPC: sending the size (%d bytes) failed (status %#x)", len(msg), messageStatus(r))
	}
	for off := 0; off < len(msg); off += 4 {
		var word [4]byte
		copy(word[:], msg[off:])
		r = c.message(messageSendPayload, binary.LittleEndian.Uint32(word[:]))
		status := messageStatus(r)
		if status&messageStatusCheckpoint != 0 {
			return errRPCCheckpoint
		}
		if status&messageStatusSuccess == 0 {
			return fmt.Errorf("VMware RPC: sending bytes %d..%d failed (status %#x)", off, off+4, status)
		}
	}
	return nil
}

func (c *rpcChannel) receive() ([]byte, error) {
	r := c.message(messageRecvSize, 0)
	status := messageStatus(r)
	if status&messageStatusSuccess == 0 {
		return nil, fmt.Errorf("VMware RPC: reading the reply size failed (status %#x)", status)
	}
	if status&messageStatusDoRecv == 0 {
		return nil, nil
	}
	if uint16(r.dx>>16) != messageSendSize {
		return nil, fmt.Errorf("VMware RPC: the host answered type %d where a reply size was due", uint16(r.dx>>16))
	}
	size := uint32(r.bx)
	if size > maxRPCReply {
		return nil, fmt.Errorf("VMware RPC: the reply announces %d bytes, more than the %d a config may take", size, maxRPCReply)
	}
	reply := make([]byte, 0, size+3)
	for uint32(len(reply)) < size {
		r = c.message(messageRecvPayload, messageStatusSuccess)
		status = messageStatus(r)
		if status&messageStatusCheckpoint != 0 {
			return nil, errRPCCheckpoint
		}
		if status&messageStatusSuccess == 0 || uint16(r.dx>>16) != messageSendPayload {
			return nil, fmt.Errorf("VMware RPC: reading reply bytes %d.. failed (status %#x, type %d)", len(reply), status, uint16(r.dx>>16))
		}
		var word [4]byte
		binary.LittleEndian.PutUint32(word[:], uint32(r.bx))
		reply = append(reply, word[:]...)
	}
	reply = reply[:size]
	r = c.message(messageRecvStatus, messageStatusSuccess)
	if messageStatus(r)&messageStatusSuccess == 0 {
		return nil, fmt.Errorf("VMware RPC: acknowledging the reply failed (status %#x)", messageStatus(r))
	}
	return reply, nil
}

func (c *rpcChannel) close() {
	c.message(messageClose, 0)
}

// RPCICall sends one request on a fresh channel and returns the host's reply, retrying when a
// checkpoint cut the channel.
func RPCICall(ports backdoorPorts, request string) ([]byte, error) {
	var lastErr error
	for attempt := 0; attempt < 3; attempt++ {
		reply, err := rpciCallOnce(ports, request)
		if !errors.Is(err, errRPCCheckpoint) {
			return reply, err
		}
		lastErr = err
	}
	return nil, lastErr
}

func rpciCallOnce(ports backdoorPorts, request string) ([]byte, error) {
	c, err := openRPCChannel(ports)
	if err != nil {
		return nil, err
	}
	defer c.close()
	if err := c.send([]byte(request)); err != nil {
		return nil, err
	}
	return c.receive()
}

// errGuestinfoMissing means the VM has no such guestinfo key.
var errGuestinfoMissing = errors.New("guestinfo key not set")

// GuestinfoGet reads one guestinfo variable ("guestinfo." + key in the VM's extraConfig). The
// host answers "1 <value>" on success and "0 <reason>" otherwise.
func GuestinfoGet(ports backdoorPorts, key string) (string, error) {
	reply, err := RPCICall(ports, "info-get guestinfo."+key)
	if err != nil {
		return "", err
	}
	text := string(reply)
	switch {
	case strings.HasPrefix(text, "1 "):
		return text[2:], nil
	case text == "1":
		return "", nil
	case strings.HasPrefix(text, "0"):
		return "", fmt.Errorf("%w: guestinfo.%s (host said %q)", errGuestinfoMissing, key, strings.TrimSpace(strings.TrimPrefix(text, "0")))
	default:
		return "", fmt.Errorf("VMware RPC: unexpected reply to info-get guestinfo.%s: %q", key, text)
	}
}

// GuestinfoSet writes one guestinfo variable; the host answers "1" on success.
func GuestinfoSet(ports backdoorPorts, key, value string) error {
	reply, err := RPCICall(ports, "info-set guestinfo."+key+" "+value)
	if err != nil {
		return err
	}
	if text := string(reply); !strings.HasPrefix(text, "1") {
		return fmt.Errorf("VMware RPC: info-set guestinfo.%s refused: %q", key, text)
	}
	return nil
}

// DecodeGuestinfoConfig turns the guestinfo.vic.config value (base64 of the JSON, because
// extraConfig values are single-line strings) into the JSON bytes.
func DecodeGuestinfoConfig(value string) ([]byte, error) {
	value = strings.TrimSpace(value)
	raw, err := base64.StdEncoding.DecodeString(value)
	if err != nil {
		return nil, fmt.Errorf("guestinfo.vic.config is not base64 (%v): the container_vm resource writes base64(JSON)", err)
	}
	return raw, nil
}

// maintenanceKey is where a client asks for a maintenance boot under vSphere (guestinfo.vic.
// maintenance = a token): the config there is the container_vm resource's own, so the request
// cannot ride in it as it does over fw_cfg.
const maintenanceKey = "vic.maintenance"

// TakeMaintenanceRequest says whether the VM holds a maintenance request, and clears it, so that a
// request left behind can never turn a later, normal start into a maintenance boot.
func TakeMaintenanceRequest(ports backdoorPorts) (bool, error) {
	value, err := GuestinfoGet(ports, maintenanceKey)
	if errors.Is(err, errGuestinfoMissing) {
		return false, nil
	}
	if err != nil {
		return false, err
	}
	if strings.TrimSpace(value) == "" {
		return false, nil
	}
	if err := GuestinfoSet(ports, maintenanceKey, ""); err != nil {
		// Still a maintenance boot: running the process of a container that is meant to stay
		// stopped would be the worse mistake.
		return true, err
	}
	return true, nil
}
