package main

import (
	"fmt"
	"runtime"
	"runtime/debug"
	"syscall"
)

//go:noescape
func backdoorTrap(r *backdoorRegisters)

// hardwareBackdoor traps to the real hypervisor. I/O permission (ioperm) belongs to one OS
// thread, so the goroutine stays on the thread that was granted it until release.
type hardwareBackdoor struct{}

// trap turns a fault on the `in` (a hypervisor without the port, permission lost) into a Go
// panic that withBackdoor recovers, instead of a crash of PID 1 and a kernel panic.
func (hardwareBackdoor) trap(r *backdoorRegisters) {
	old := debug.SetPanicOnFault(true)
	defer debug.SetPanicOnFault(old)
	backdoorTrap(r)
}

// withBackdoor grants this thread the backdoor port (4 bytes: `in eax, dx` reads a dword), runs
// fn with it and takes it back.
func withBackdoor(fn func(backdoorPorts) error) (err error) {
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	if _, _, errno := syscall.RawSyscall(syscall.SYS_IOPERM, backdoorPort, 4, 1); errno != 0 {
		return fmt.Errorf("ioperm(%#x): %v", backdoorPort, errno)
	}
	defer syscall.RawSyscall(syscall.SYS_IOPERM, backdoorPort, 4, 0)
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("the VMware backdoor port %#x faulted: %v", backdoorPort, r)
		}
	}()
	return fn(hardwareBackdoor{})
}
