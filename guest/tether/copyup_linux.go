package main

import (
	"fmt"
	"io"
	"os"
	"path/filepath"
	"syscall"
	"time"
)

// stagingDir is where a volume is mounted first when the image has files at its path: on /dev
// (a devtmpfs), so nothing of it shows in the container's own filesystem.
const stagingDir = "/dev/.vic-volume"

// volumeIsEmpty says whether a volume's filesystem holds nothing yet (a lost+found that mkfs
// made aside): a new volume, which takes the image's files at its path, as dockerd's do.
func volumeIsEmpty(root string) (bool, error) {
	entries, err := os.ReadDir(root)
	if err != nil {
		return false, err
	}
	for _, e := range entries {
		if e.Name() != "lost+found" {
			return false, nil
		}
	}
	return true, nil
}

// dropEmptyLostAndFound removes the empty lost+found that mke2fs puts at a new filesystem's root
// when it is all the volume holds, so that a new volume is empty, as dockerd's are (e2fsck makes
// it again when it needs one).
func dropEmptyLostAndFound(root string) {
	entries, err := os.ReadDir(root)
	if err != nil || len(entries) != 1 || entries[0].Name() != "lost+found" || !entries[0].IsDir() {
		return
	}
	_ = os.Remove(filepath.Join(root, "lost+found")) // fails, and stays, when not empty
}

// dirHasEntries says whether the container's filesystem has files at path (a directory that is
// not empty), which a new volume mounted there would hide.
func dirHasEntries(path string) bool {
	f, err := os.Open(path)
	if err != nil {
		return false
	}
	defer f.Close()
	names, _ := f.Readdirnames(1)
	return len(names) > 0
}

// copyTree copies what is under src into dst (an existing directory), keeping each entry's type,
// mode, owner and times: directories, regular files, symbolic links, FIFOs and device nodes.
// dst itself takes src's mode, owner and times, as a volume's root takes those of the image's
// directory. Returns the number of entries copied.
func copyTree(src, dst string) (int, error) {
	info, err := os.Lstat(src)
	if err != nil {
		return 0, err
	}
	count := 0
	if err := copyDirEntries(src, dst, &count); err != nil {
		return count, err
	}
	return count, keepAttributes(dst, info)
}

func copyDirEntries(src, dst string, count *int) error {
	entries, err := os.ReadDir(src)
	if err != nil {
		return err
	}
	for _, e := range entries {
		from, to := filepath.Join(src, e.Name()), filepath.Join(dst, e.Name())
		info, err := os.Lstat(from)
		if err != nil {
			return err
		}
		if err := copyEntry(from, to, info, count); err != nil {
			return err
		}
	}
	return nil
}

func copyEntry(from, to string, info os.FileInfo, count *int) error {
	*count++
	mode := info.Mode()
	switch {
	case mode.IsDir():
		if err := os.Mkdir(to, 0o700); err != nil && !os.IsExist(err) {
			return err
		}
		if err := copyDirEntries(from, to, count); err != nil {
			return err
		}
	case mode&os.ModeSymlink != 0:
		target, err := os.Readlink(from)
		if err != nil {
			return err
		}
		if err := os.Symlink(target, to); err != nil {
			return err
		}
		if st, ok := info.Sys().(*syscall.Stat_t); ok {
			return os.Lchown(to, int(st.Uid), int(st.Gid))
		}
		return nil
	case mode.IsRegular():
		if err := copyFile(from, to); err != nil {
			return err
		}
	default:
		st, ok := info.Sys().(*syscall.Stat_t)
		if !ok {
			return fmt.Errorf("%s: unknown file type", from)
		}
		if err := syscall.Mknod(to, st.Mode, int(st.Rdev)); err != nil {
			return fmt.Errorf("%s: %v", to, err)
		}
	}
	return keepAttributes(to, info)
}

func copyFile(from, to string) error {
	in, err := os.Open(from)
	if err != nil {
		return err
	}
	defer in.Close()
	out, err := os.OpenFile(to, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if err != nil {
		return err
	}
	if _, err := io.Copy(out, in); err != nil {
		out.Close()
		return err
	}
	return out.Close()
}

// keepAttributes gives a copied entry (not a link) its source's owner, mode (with setuid, setgid
// and sticky bits, which chown clears, so after it) and times.
func keepAttributes(path string, info os.FileInfo) error {
	st, ok := info.Sys().(*syscall.Stat_t)
	if ok {
		if err := os.Lchown(path, int(st.Uid), int(st.Gid)); err != nil {
			return err
		}
	}
	if err := os.Chmod(path, info.Mode()&(os.ModePerm|os.ModeSetuid|os.ModeSetgid|os.ModeSticky)); err != nil {
		return err
	}
	access := info.ModTime()
	if ok {
		access = time.Unix(st.Atim.Sec, st.Atim.Nsec)
	}
	return os.Chtimes(path, access, info.ModTime())
}
