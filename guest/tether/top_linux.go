package main

import (
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"time"
)

// ProcessList is docker top's answer, as `ps -ef` gives it: one row of the titles' columns per
// process of the container (the tether itself, PID 1, and the kernel's threads left out).
type ProcessList struct {
	Titles    []string   `json:"Titles"`
	Processes [][]string `json:"Processes"`
}

var processTitles = []string{"UID", "PID", "PPID", "C", "STIME", "TTY", "TIME", "CMD"}

// clockTicks is USER_HZ, the unit of /proc/<pid>/stat's times on every Linux architecture we boot.
const clockTicks = 100

// ListProcesses reads the processes under proc (/proc in the guest): `ps -ef`'s columns, users by
// name where passwd names them, sorted by PID.
func ListProcesses(proc string, passwd map[uint32]string, now time.Time) (ProcessList, error) {
	boot, err := bootTime(proc)
	if err != nil {
		return ProcessList{}, err
	}
	entries, err := os.ReadDir(proc)
	if err != nil {
		return ProcessList{}, err
	}
	type row struct {
		pid  int
		cols []string
	}
	var rows []row
	for _, e := range entries {
		pid, err := strconv.Atoi(e.Name())
		if err != nil || pid == 1 {
			continue
		}
		cols, ok := processRow(filepath.Join(proc, e.Name()), pid, passwd, boot, now)
		if ok {
			rows = append(rows, row{pid, cols})
		}
	}
	sort.Slice(rows, func(i, j int) bool { return rows[i].pid < rows[j].pid })
	list := ProcessList{Titles: processTitles, Processes: [][]string{}}
	for _, r := range rows {
		list.Processes = append(list.Processes, r.cols)
	}
	return list, nil
}

// processRow is one process's columns; false for a kernel thread or a process gone meanwhile.
func processRow(dir string, pid int, passwd map[uint32]string, boot, now time.Time) ([]string, bool) {
	stat, err := os.ReadFile(filepath.Join(dir, "stat"))
	if err != nil {
		return nil, false
	}
	// "pid (comm) state ppid pgrp session tty_nr …": comm may hold spaces and parentheses.
	text := string(stat)
	open, closing := strings.IndexByte(text, '('), strings.LastIndexByte(text, ')')
	if open < 0 || closing < open {
		return nil, false
	}
	comm := text[open+1 : closing]
	f := strings.Fields(text[closing+1:])
	if len(f) < 20 {
		return nil, false
	}
	ppid, _ := strconv.Atoi(f[1])
	tty, _ := strconv.Atoi(f[4])
	utime, _ := strconv.ParseUint(f[11], 10, 64)
	stime, _ := strconv.ParseUint(f[12], 10, 64)
	started, _ := strconv.ParseUint(f[19], 10, 64)
	// The kernel's threads: kthreadd (2) and its children.
	if pid == 2 || ppid == 2 {
		return nil, false
	}
	cmdline, _ := os.ReadFile(filepath.Join(dir, "cmdline"))
	cmd := strings.TrimSpace(strings.ReplaceAll(strings.TrimRight(string(cmdline), "\x00"), "\x00", " "))
	if cmd == "" {
		cmd = "[" + comm + "]"
	}
	startedAt := boot.Add(time.Duration(started) * time.Second / clockTicks)
	stimeText := startedAt.UTC().Format("15:04")
	if now.Sub(startedAt) > 24*time.Hour {
		stimeText = startedAt.UTC().Format("Jan02")
	}
	cpu := (utime + stime) / clockTicks
	return []string{
		processUser(dir, passwd),
		strconv.Itoa(pid),
		strconv.Itoa(ppid),
		"0",
		stimeText,
		ttyName(tty),
		fmt.Sprintf("%02d:%02d:%02d", cpu/3600, cpu/60%60, cpu%60),
		cmd,
	}, true
}

// processUser is the real uid's name ("Uid:" of /proc/<pid>/status), or the number.
func processUser(dir string, passwd map[uint32]string) string {
	status, err := os.ReadFile(filepath.Join(dir, "status"))
	if err != nil {
		return "?"
	}
	for _, line := range strings.Split(string(status), "\n") {
		if rest, ok := strings.CutPrefix(line, "Uid:"); ok {
			fields := strings.Fields(rest)
			if len(fields) == 0 {
				break
			}
			uid, err := strconv.ParseUint(fields[0], 10, 32)
			if err != nil {
				return fields[0]
			}
			if name, ok := passwd[uint32(uid)]; ok {
				return name
			}
			return fields[0]
		}
	}
	return "?"
}

// ttyName is ps's TTY of a tty_nr: pts/N, ttySN, ttyN, or "?".
func ttyName(nr int) string {
	major, minor := (nr>>8)&0xfff, (nr&0xff)|((nr>>12)&0xfff00)
	switch {
	case nr == 0:
		return "?"
	case major >= 136 && major <= 143:
		return fmt.Sprintf("pts/%d", (major-136)*256+minor)
	case major == 4 && minor >= 64:
		return fmt.Sprintf("ttyS%d", minor-64)
	case major == 4:
		return fmt.Sprintf("tty%d", minor)
	}
	return "?"
}

// bootTime is when the kernel booted ("btime" of /proc/stat).
func bootTime(proc string) (time.Time, error) {
	stat, err := os.ReadFile(filepath.Join(proc, "stat"))
	if err != nil {
		return time.Time{}, err
	}
	for _, line := range strings.Split(string(stat), "\n") {
		if rest, ok := strings.CutPrefix(line, "btime "); ok {
			secs, err := strconv.ParseInt(strings.TrimSpace(rest), 10, 64)
			if err != nil {
				return time.Time{}, err
			}
			return time.Unix(secs, 0), nil
		}
	}
	return time.Time{}, fmt.Errorf("%s/stat has no btime", proc)
}

// userNames maps uids to names from an /etc/passwd; an unreadable one maps none.
func userNames(path string) map[uint32]string {
	names := map[uint32]string{}
	f, err := os.Open(path)
	if err != nil {
		return names
	}
	defer f.Close()
	entries, _ := parsePasswd(f)
	for _, e := range entries {
		if _, taken := names[e.uid]; !taken {
			names[e.uid] = e.name
		}
	}
	return names
}
