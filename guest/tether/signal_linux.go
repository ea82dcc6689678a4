package main

import (
	"bufio"
	"os"
	"syscall"
	"unsafe"
)

// listenForSignals reads the runner's signal lines from the status serial port and hands each
// signal to the supervisor, which sends it to the container's process as it does the signals the
// tether itself receives. Only under QEMU: under vSphere the status goes over the backdoor and
// there is no line from the hypervisor to read here.
func listenForSignals(signals chan<- os.Signal) {
	port, err := os.OpenFile(statusSerialPort, os.O_RDONLY|syscall.O_NOCTTY, 0)
	if err != nil {
		logf("cannot read signals from %s (%v); docker stop and kill -s end the VM instead", statusSerialPort, err)
		return
	}
	// Raw input: the line discipline would echo what the runner sends back into the status
	// channel, and turn control characters into signals of its own.
	makeRawInput(port)
	scanner := bufio.NewScanner(port)
	for scanner.Scan() {
		if s, ok := ParseSignalLine(scanner.Text()); ok {
			logf("signal %d from the hypervisor", int(s))
			signals <- s
		}
	}
}

func makeRawInput(f *os.File) {
	var t syscall.Termios
	if _, _, e := syscall.Syscall(syscall.SYS_IOCTL, f.Fd(), syscall.TCGETS, uintptr(unsafe.Pointer(&t))); e != 0 {
		return
	}
	t.Lflag &^= syscall.ECHO | syscall.ECHONL | syscall.ICANON | syscall.ISIG | syscall.IEXTEN
	t.Iflag &^= syscall.ICRNL | syscall.INLCR | syscall.IGNCR | syscall.IXON
	t.Cc[syscall.VMIN] = 1
	t.Cc[syscall.VTIME] = 0
	_, _, _ = syscall.Syscall(syscall.SYS_IOCTL, f.Fd(), syscall.TCSETS, uintptr(unsafe.Pointer(&t)))
}
