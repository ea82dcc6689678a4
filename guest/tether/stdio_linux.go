package main

import (
	"fmt"
	"os"
	"syscall"
	"time"
	"unsafe"
)

// ptmxPaths are where the tether opens a pseudo-terminal: the container's own devpts instance
// (mounted with newinstance inside the container root), else the system's multiplexer.
var ptmxPaths = []string{"/dev/pts/ptmx", "/dev/ptmx"}

// framedOutput is one stream of the container's output: read until it ends, framed onto the console.
type framedOutput struct {
	r      *os.File
	prefix string
}

// containerStdio is what the container's process gets as its file descriptors 0, 1 and 2, and
// what the tether keeps of them.
type containerStdio struct {
	files   []uintptr
	outputs []framedOutput
	// terminal: fd 0 is a terminal, to become the process's controlling terminal (Setctty).
	terminal bool
	// child holds the parent's copies of what only the process may hold: closed once it started,
	// so that its output streams end when it (and whatever it started) is gone.
	child []*os.File
	// kept stays open while the process runs: the write end of an open stdin. Closing it is the
	// end of the process's input.
	kept []*os.File
	// input is where the process's input goes: the open stdin's write end, or the terminal's
	// master; nil when its stdin is not open (no -i).
	input *os.File
}

// openStdio prepares the process's stdin, stdout and stderr as the config asks: a terminal
// (Tty: one pseudo-terminal for all three, its output on the stdout stream), or two pipes for
// the output and, for stdin, /dev/null or, with OpenStdin, a pipe nobody writes to.
func openStdio(cfg Config, devNull *os.File) (*containerStdio, error) {
	if cfg.Tty {
		master, slave, err := openPty()
		if err != nil {
			return nil, fmt.Errorf("a terminal for the container (tty): %v", err)
		}
		return &containerStdio{
			files:    []uintptr{slave.Fd(), slave.Fd(), slave.Fd()},
			outputs:  []framedOutput{{master, stdoutFrame}},
			terminal: true,
			input:    master,
			// The master stays open as long as its copier reads it (until the process and its
			// children are gone): the terminal's input stays open that long.
			child: []*os.File{slave},
		}, nil
	}
	outRead, outWrite, err := os.Pipe()
	if err != nil {
		return nil, err
	}
	errRead, errWrite, err := os.Pipe()
	if err != nil {
		return nil, err
	}
	s := &containerStdio{
		files:   []uintptr{devNull.Fd(), outWrite.Fd(), errWrite.Fd()},
		outputs: []framedOutput{{outRead, stdoutFrame}, {errRead, stderrFrame}},
		child:   []*os.File{outWrite, errWrite},
	}
	if cfg.OpenStdin {
		inRead, inWrite, err := os.Pipe()
		if err != nil {
			return nil, err
		}
		s.files[0] = inRead.Fd()
		s.child = append(s.child, inRead)
		s.kept = append(s.kept, inWrite)
		s.input = inWrite
	}
	return s, nil
}

// started drops the parent's copies of the process's ends.
func (s *containerStdio) started() {
	for _, f := range s.child {
		f.Close()
	}
}

// ended closes what was kept open for the process: its input ends.
func (s *containerStdio) ended() {
	for _, f := range s.kept {
		f.Close()
	}
}

// copyOutputs frames each output stream onto the console from a goroutine of its own, under the
// prefix frame gives its stream's ("vic-stdout", "vic-stderr"); the channel has a value per stream
// once that one is copied to its end.
func (s *containerStdio) copyOutputs(frame func(prefix string) string) chan struct{} {
	copied := make(chan struct{}, len(s.outputs))
	for _, stream := range s.outputs {
		go func(r *os.File, prefix string) {
			// A terminal's master reads EIO, not EOF, once the process is gone: the end all the same.
			_ = CopyFramed(r, prefix, writeConsole, time.Now)
			r.Close()
			copied <- struct{}{}
		}(stream.r, frame(stream.prefix))
	}
	return copied
}

// fork starts program with these stdio files, in its own session (a terminal its controlling
// one), as who, in dir with env. Only the process may hold its ends of the streams afterwards.
func (s *containerStdio) fork(program string, argv []string, dir string, env []string, who Identity) (int, error) {
	pid, err := syscall.ForkExec(program, argv, &syscall.ProcAttr{
		Dir:   dir,
		Env:   env,
		Files: s.files,
		Sys: &syscall.SysProcAttr{
			Setsid: true,
			// With a terminal, fd 0 becomes the process's controlling terminal.
			Setctty:    s.terminal,
			Credential: &syscall.Credential{Uid: who.UID, Gid: who.GID, Groups: who.Groups},
		},
	})
	// Only the process (and what it starts) may hold the write ends: the copiers end at EOF.
	s.started()
	if err != nil {
		s.ended()
	}
	return pid, err
}

// openPty opens a new pseudo-terminal pair, 80 columns by 24 rows: the master, which the tether
// reads, and the slave, which the process gets.
func openPty() (master, slave *os.File, err error) {
	for _, path := range ptmxPaths {
		master, err = os.OpenFile(path, os.O_RDWR|syscall.O_NOCTTY, 0)
		if err == nil {
			break
		}
	}
	if err != nil {
		return nil, nil, err
	}
	var unlock int32
	if err := ioctl(master, syscall.TIOCSPTLCK, unsafe.Pointer(&unlock)); err != nil {
		master.Close()
		return nil, nil, fmt.Errorf("unlocking the terminal: %v", err)
	}
	var number uint32
	if err := ioctl(master, syscall.TIOCGPTN, unsafe.Pointer(&number)); err != nil {
		master.Close()
		return nil, nil, fmt.Errorf("numbering the terminal: %v", err)
	}
	_ = setTerminalSize(master, TerminalSize{Rows: 24, Cols: 80})
	slave, err = os.OpenFile(fmt.Sprintf("/dev/pts/%d", number), os.O_RDWR|syscall.O_NOCTTY, 0)
	if err != nil {
		master.Close()
		return nil, nil, err
	}
	return master, slave, nil
}

// setTerminalSize sets the size of the terminal whose master (or slave) f is.
func setTerminalSize(f *os.File, size TerminalSize) error {
	ws := struct{ rows, cols, x, y uint16 }{size.Rows, size.Cols, 0, 0}
	return ioctl(f, syscall.TIOCSWINSZ, unsafe.Pointer(&ws))
}

func ioctl(f *os.File, request uintptr, arg unsafe.Pointer) error {
	if _, _, errno := syscall.Syscall(syscall.SYS_IOCTL, f.Fd(), request, uintptr(arg)); errno != 0 {
		return errno
	}
	return nil
}
