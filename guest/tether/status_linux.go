package main

import (
	"os"
	"syscall"
)

// statusSerialPort is the second serial port; the runner gives QEMU one for the status channel.
const statusSerialPort = "/dev/ttyS1"

// statusReporter sends ContainerStatus where the hypervisor can read it: over the backdoor
// (guestinfo, vSphere) when the config came from guestinfo, over the status serial port
// (QEMU's runner) when it came from fw_cfg. Reporting never stops the container: a failure is
// logged once.
type statusReporter struct {
	viaBackdoor bool
	port        *os.File
	failed      bool
}

var reporter = &statusReporter{}

func (r *statusReporter) report(s ContainerStatus) {
	r.send(s.Fields())
}

// send writes guestinfo keys (without "guestinfo.vic.") the way report does.
func (r *statusReporter) send(fields map[string]string) {
	var err error
	if r.viaBackdoor {
		err = withBackdoor(func(ports backdoorPorts) error {
			for k, v := range fields {
				if err := GuestinfoSet(ports, "vic."+k, v); err != nil {
					return err
				}
			}
			return nil
		})
	} else {
		if r.port == nil {
			r.port, err = os.OpenFile(statusSerialPort, os.O_WRONLY|syscall.O_NOCTTY, 0)
		}
		if err == nil {
			_, err = r.port.WriteString(statusLine(fields))
		}
		if err == nil {
			drainTTY(r.port)
		}
	}
	if err != nil && !r.failed {
		r.failed = true
		logf("cannot report the container status (%v); vSphere will not see it", err)
	}
}

// drainTTY waits until a serial port has sent everything written to it (tcdrain), so nothing
// written just before power-off is lost in the UART's buffer.
func drainTTY(f *os.File) {
	_, _, _ = syscall.Syscall(syscall.SYS_IOCTL, f.Fd(), tcsbrk, 1)
}

// TCSBRK with a non-zero argument is tcdrain(3) on Linux; the syscall package lacks the name.
const tcsbrk = 0x5409
