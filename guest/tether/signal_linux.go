package main

import (
	"bufio"
	"errors"
	"os"
	"syscall"
	"unsafe"
)

// listenToHypervisor opens the status serial port for what the runner sends the other way, and
// reads it from a goroutine of its own: signal lines go to the supervisor, which sends each to the
// container's process as it does the signals the tether itself receives; input lines go to the
// input router. Only under QEMU: under vSphere the status goes over the backdoor and there is no
// line from the hypervisor to read here. Exec requests go to execs. False when the port cannot be read.
func listenToHypervisor(signals chan<- os.Signal, input *inputRouter, execs *execSessions, stop *stopRequest) bool {
	port, err := os.OpenFile(statusSerialPort, os.O_RDONLY|syscall.O_NOCTTY, 0)
	if err != nil {
		logf("cannot read signals and input from %s (%v); docker stop and kill -s end the VM instead, and no input reaches the process", statusSerialPort, err)
		return false
	}
	// Raw input: the line discipline would echo what the runner sends back into the status
	// channel, and turn control characters into signals of its own.
	makeRawInput(port)
	go func() {
		reader := bufio.NewReaderSize(port, 64*1024)
		for {
			line, err := ReadBoundedLine(reader, maxInputLine)
			if errors.Is(err, errLineTooLong) {
				logf("dropping a line of over %d bytes from the hypervisor", maxInputLine)
				continue
			}
			if err != nil {
				logf("reading %s: %v; no more signals or input reach the process", statusSerialPort, err)
				return
			}
			if s, stopping, ok := ParseSignalLine(line); ok {
				if stopping {
					logf("signal %d from the hypervisor, to stop the container: its process is not run again", int(s))
					stop.set()
				} else {
					logf("signal %d from the hypervisor", int(s))
				}
				signals <- s
			} else if m, ok := ParseInLine(line); ok {
				switch m.Kind {
				case "data", "eof":
					input.push(inputItem{data: m.Data, eof: m.Kind == "eof"})
				case "resize":
					input.push(inputItem{size: &m.Size})
				default:
					execs.handle(m)
				}
			}
		}
	}()
	return true
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
