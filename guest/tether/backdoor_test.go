package main

import (
	"encoding/base64"
	"encoding/binary"
	"errors"
	"strings"
	"testing"
)

// fakeHypervisor plays VMware's side of the low-bandwidth RPCI protocol. No peer can: the backdoor
// exists only inside a VMware VM. It checks every trap's framing the way the host does.
type fakeHypervisor struct {
	t          *testing.T
	guestinfo  map[string]string
	open       bool
	channel    uint16
	cookieHigh uint32
	cookieLow  uint32
	sendSize   int
	sent       []byte
	reply      []byte
	replyRead  int
	// checkpointAt makes the n-th payload trap report a checkpoint (0 = never).
	checkpointAt int
	payloadTraps int
	closes       int
	requests     []string
}

func newFakeHypervisor(t *testing.T, guestinfo map[string]string) *fakeHypervisor {
	return &fakeHypervisor{t: t, guestinfo: guestinfo, channel: 3, cookieHigh: 0xdeadbeef, cookieLow: 0x0badf00d}
}

func (h *fakeHypervisor) trap(r *backdoorRegisters) {
	if uint32(r.ax) != backdoorMagic || uint16(r.dx) != backdoorPort {
		h.t.Fatalf("trap without the magic on the backdoor port: %+v", r)
	}
	cmd, sub := uint16(r.cx), uint16(r.cx>>16)
	if cmd == backdoorGetVersion {
		r.ax, r.bx = 6, backdoorMagic
		return
	}
	if cmd != backdoorMessage {
		h.t.Fatalf("unexpected backdoor command %#x", cmd)
	}
	status := func(s uint16) { r.cx = uint64(s) << 16 }
	if sub == messageClose && !h.open {
		status(0) // closing a channel a checkpoint already dropped: refused, harmless
		return
	}
	if sub != messageOpen {
		if !h.open || uint16(r.dx>>16) != h.channel || uint32(r.si) != h.cookieHigh || uint32(r.di) != h.cookieLow {
			h.t.Errorf("message %d on a wrong channel or cookie: %+v", sub, r)
			status(0)
			return
		}
	}
	switch sub {
	case messageOpen:
		if uint32(r.bx) != rpciProtocol|guestMsgFlagCookie {
			h.t.Errorf("open with protocol %#x, want RPCI with cookie", r.bx)
		}
		h.open, h.sent, h.reply, h.replyRead = true, nil, nil, 0
		r.dx = uint64(h.channel) << 16
		r.si, r.di = uint64(h.cookieHigh), uint64(h.cookieLow)
		status(messageStatusSuccess)
	case messageSendSize:
		h.sendSize = int(uint32(r.bx))
		status(messageStatusSuccess)
	case messageSendPayload:
		h.payloadTraps++
		if h.checkpointAt != 0 && h.payloadTraps == h.checkpointAt {
			h.open = false
			status(messageStatusCheckpoint)
			return
		}
		var word [4]byte
		binary.LittleEndian.PutUint32(word[:], uint32(r.bx))
		h.sent = append(h.sent, word[:]...)
		if len(h.sent) >= h.sendSize {
			h.sent = h.sent[:h.sendSize]
			h.answer(string(h.sent))
		}
		status(messageStatusSuccess)
	case messageRecvSize:
		if h.reply == nil {
			status(messageStatusSuccess)
			return
		}
		r.bx = uint64(len(h.reply))
		r.dx = uint64(messageSendSize)<<16 | uint64(uint16(r.dx))
		status(messageStatusSuccess | messageStatusDoRecv)
	case messageRecvPayload:
		var word [4]byte
		copy(word[:], h.reply[h.replyRead:])
		h.replyRead += 4
		r.bx = uint64(binary.LittleEndian.Uint32(word[:]))
		r.dx = uint64(messageSendPayload)<<16 | uint64(uint16(r.dx))
		status(messageStatusSuccess)
	case messageRecvStatus:
		status(messageStatusSuccess)
	case messageClose:
		h.open = false
		h.closes++
		status(messageStatusSuccess)
	default:
		h.t.Fatalf("unknown message type %d", sub)
	}
}

func (h *fakeHypervisor) answer(request string) {
	h.requests = append(h.requests, request)
	if setting, ok := strings.CutPrefix(request, "info-set guestinfo."); ok {
		key, value, _ := strings.Cut(setting, " ")
		if h.guestinfo == nil {
			h.guestinfo = map[string]string{}
		}
		h.guestinfo[key] = value
		h.reply = []byte("1 ")
		return
	}
	key, ok := strings.CutPrefix(request, "info-get guestinfo.")
	if !ok {
		h.reply = []byte("0 Unknown command")
		return
	}
	if v, found := h.guestinfo[key]; found {
		h.reply = []byte("1 " + v)
	} else {
		h.reply = []byte("0 No value found")
	}
}

// notVMware answers like bare metal or a hypervisor without the backdoor: all ones, registers kept.
type notVMware struct{}

func (notVMware) trap(r *backdoorRegisters) { r.ax = 0xffffffff }

func TestGuestinfoGet_GivenValuesOfEveryLengthModulo4_ThenTheyRoundTrip(t *testing.T) {
	for _, value := range []string{"", "a", "ab", "abc", "abcd", "abcde", strings.Repeat("xyz", 1000)} {
		h := newFakeHypervisor(t, map[string]string{"vic.config": value})
		got, err := GuestinfoGet(h, "vic.config")
		if err != nil || got != value {
			t.Fatalf("GIVEN a %d-byte value THEN it reads back, got %d bytes, %v", len(value), len(got), err)
		}
		if h.requests[0] != "info-get guestinfo.vic.config" || h.closes != 1 {
			t.Fatalf("THEN one info-get request on one closed channel, got %q, %d closes", h.requests, h.closes)
		}
	}
}

func TestGuestinfoGet_GivenAMissingKey_ThenErrGuestinfoMissing(t *testing.T) {
	_, err := GuestinfoGet(newFakeHypervisor(t, nil), "vic.config")
	if !errors.Is(err, errGuestinfoMissing) || !strings.Contains(err.Error(), "guestinfo.vic.config") {
		t.Fatalf("THEN the error names the key and is errGuestinfoMissing, got %v", err)
	}
}

func TestRPCICall_GivenACheckpointMidMessage_ThenTheCallIsRetried(t *testing.T) {
	h := newFakeHypervisor(t, map[string]string{"vic.config": "e30="})
	h.checkpointAt = 2
	got, err := GuestinfoGet(h, "vic.config")
	if err != nil || got != "e30=" {
		t.Fatalf("THEN the retry succeeds, got %q, %v", got, err)
	}
}

func TestIsVMware_GivenEachHypervisor(t *testing.T) {
	if !IsVMware(newFakeHypervisor(t, nil)) {
		t.Error("GIVEN VMware THEN IsVMware")
	}
	if IsVMware(notVMware{}) {
		t.Error("GIVEN no backdoor THEN not IsVMware")
	}
}

func TestOpenRPCChannel_GivenAHostThatRefuses_ThenAnErrorNotAHang(t *testing.T) {
	// QEMU's vmport answers GETVERSION but not the message commands: registers come back as sent.
	_, err := RPCICall(qemuVmport{}, "info-get guestinfo.vic.config")
	if err == nil || !strings.Contains(err.Error(), "opening an RPCI channel failed") {
		t.Fatalf("THEN the open fails clearly, got %v", err)
	}
}

type qemuVmport struct{}

func (qemuVmport) trap(r *backdoorRegisters) {}

func TestDecodeGuestinfoConfig(t *testing.T) {
	doc := `{"version":1}`
	got, err := DecodeGuestinfoConfig(base64.StdEncoding.EncodeToString([]byte(doc)) + "\n")
	if err != nil || string(got) != doc {
		t.Fatalf("GIVEN base64 JSON THEN the JSON, got %q, %v", got, err)
	}
	if _, err := DecodeGuestinfoConfig("{not base64}"); err == nil || !strings.Contains(err.Error(), "not base64") {
		t.Fatalf("GIVEN raw text THEN a clear error, got %v", err)
	}
}

// A maintenance request under vSphere is taken once: read, then cleared, so that a later start of
// the same VM runs the container again.
func TestTakeMaintenanceRequest_GivenARequest_ThenItIsTakenAndCleared(t *testing.T) {
	h := newFakeHypervisor(t, map[string]string{"vic.maintenance": "0a1b2c"})
	got, err := TakeMaintenanceRequest(h)
	if err != nil || !got {
		t.Fatalf("THEN a maintenance boot, got %v, %v", got, err)
	}
	if h.guestinfo["vic.maintenance"] != "" || h.requests[len(h.requests)-1] != "info-set guestinfo.vic.maintenance " {
		t.Fatalf("THEN the key is set empty, got %q after %q", h.guestinfo["vic.maintenance"], h.requests)
	}
	if got, err := TakeMaintenanceRequest(h); err != nil || got {
		t.Fatalf("WHEN asked again THEN a normal boot, got %v, %v", got, err)
	}
}

func TestTakeMaintenanceRequest_GivenNoKey_ThenANormalBootAndNothingWritten(t *testing.T) {
	h := newFakeHypervisor(t, map[string]string{"vic.config": "e30="})
	got, err := TakeMaintenanceRequest(h)
	if err != nil || got {
		t.Fatalf("THEN a normal boot, got %v, %v", got, err)
	}
	for _, r := range h.requests {
		if strings.HasPrefix(r, "info-set") {
			t.Fatalf("THEN nothing is written, got %q", h.requests)
		}
	}
}
