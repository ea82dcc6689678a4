package main

import (
	"fmt"
	"os"
	"strconv"
	"strings"
	"syscall"
	"time"
	"unsafe"
)

// How long the volume disks may take to show up after the container disk did (they sit on the
// same controller, so they are usually there already).
const volumeWait = 20 * time.Second

// EXT4_IOC_RESIZE_FS, _IOW('f', 16, __u64): grows a mounted ext4 filesystem to a block count.
const ext4IocResizeFs = 0x40086610

// mountVolumes mounts every volume of the config at its path inside the container (the root is
// the container filesystem by now), hands a writable one to the container's user and grows a
// filesystem whose disk was extended since it was made.
func mountVolumes(cfg Config) error {
	if len(cfg.Mounts) == 0 {
		return nil
	}
	owner, err := containerOwner(cfg.User)
	if err != nil {
		return err
	}
	devices, err := waitForVolumes(cfg.Mounts)
	if err != nil {
		return err
	}
	for i, m := range cfg.Mounts {
		device := "/dev/" + devices[i]
		if err := os.MkdirAll(m.Path, 0o755); err != nil {
			return fmt.Errorf("mounts[%d]: creating %s in the container filesystem: %v", i, m.Path, err)
		}
		var flags uintptr = syscall.MS_NODEV
		if m.ReadOnly {
			flags |= syscall.MS_RDONLY
		}
		copied := -1
		if !m.ReadOnly && dirHasEntries(m.Path) {
			// The image has files there, which the volume would hide: a new (empty) volume takes
			// a copy of them first, as dockerd fills a new volume from the image.
			var err error
			if copied, err = mountFilled(device, m, flags); err != nil {
				return fmt.Errorf("mounts[%d]: %v", i, err)
			}
		} else if err := syscall.Mount(device, m.Path, "ext4", flags, ""); err != nil {
			return fmt.Errorf("mounts[%d]: mounting %s (ext4 UUID %s) on %s: %v", i, device, m.UUID, m.Path, err)
		}
		mode := "read-write"
		if m.ReadOnly {
			mode = "read-only"
		} else {
			growFilesystem(devices[i], m.Path)
			dropEmptyLostAndFound(m.Path)
			// A volume filled from the image keeps the owner of the image's directory.
			if copied < 0 {
				if err := os.Chown(m.Path, owner.UID, owner.GID); err != nil {
					return fmt.Errorf("mounts[%d]: handing %s to uid %d gid %d: %v", i, m.Path, owner.UID, owner.GID, err)
				}
			}
		}
		logf("volume %s (ext4 UUID %s) mounted %s on %s", device, m.UUID, mode, m.Path)
		if copied >= 0 {
			logf("volume %s: new, filled with the image's %d entries under %s", device, copied, m.Path)
		}
	}
	return nil
}

// mountFilled mounts the volume at a staging point, copies the image's files at the mount's path
// into it when it is new (empty), then moves the mount to its path. Returns the entries copied,
// or -1 when the volume had content already (nothing is copied). A copy that fails is undone, so
// that the next start copies again instead of finding a half-filled volume.
func mountFilled(device string, m MountConfig, flags uintptr) (int, error) {
	if err := os.MkdirAll(stagingDir, 0o700); err != nil {
		return 0, err
	}
	if err := syscall.Mount(device, stagingDir, "ext4", flags, ""); err != nil {
		return 0, fmt.Errorf("mounting %s (ext4 UUID %s) on %s: %v", device, m.UUID, stagingDir, err)
	}
	copied := -1
	empty, err := volumeIsEmpty(stagingDir)
	if err == nil && empty {
		if copied, err = copyTree(m.Path, stagingDir); err != nil {
			entries, _ := os.ReadDir(stagingDir)
			for _, e := range entries {
				if e.Name() != "lost+found" {
					_ = os.RemoveAll(stagingDir + "/" + e.Name())
				}
			}
		}
	}
	if err != nil {
		_ = syscall.Unmount(stagingDir, 0)
		return 0, fmt.Errorf("filling the new volume %s from the image's %s: %v", device, m.Path, err)
	}
	if err := syscall.Mount(stagingDir, m.Path, "", syscall.MS_MOVE, ""); err != nil {
		_ = syscall.Unmount(stagingDir, 0)
		return 0, fmt.Errorf("moving the mount of %s to %s: %v", device, m.Path, err)
	}
	_ = os.Remove(stagingDir)
	return copied, nil
}

type volumeOwner struct{ UID, GID int }

// containerOwner is the user the process runs as, resolved in the container's own /etc/passwd.
func containerOwner(user string) (volumeOwner, error) {
	passwd, _ := os.Open("/etc/passwd")
	group, _ := os.Open("/etc/group")
	defer closeIfOpen(passwd)
	defer closeIfOpen(group)
	id, err := ResolveUser(user, readerOrNil(passwd), readerOrNil(group))
	if err != nil {
		return volumeOwner{}, err
	}
	return volumeOwner{UID: int(id.UID), GID: int(id.GID)}, nil
}

// waitForVolumes finds the block device of each mount by its ext4 UUID.
func waitForVolumes(mounts []MountConfig) ([]string, error) {
	deadline := time.Now().Add(volumeWait)
	for {
		byUUID := map[string]string{}
		names, _ := os.ReadDir("/sys/class/block")
		for _, entry := range names {
			if skipBlockDevice(entry.Name()) {
				continue
			}
			if d := identifyBlockDevice(entry.Name()); d.Err == nil {
				byUUID[d.Identity.UUID] = d.Name
			}
		}
		found := make([]string, len(mounts))
		var missing []string
		for i, m := range mounts {
			if found[i] = byUUID[m.UUID]; found[i] == "" {
				missing = append(missing, fmt.Sprintf("mounts[%d] (%s, ext4 UUID %s)", i, m.Path, m.UUID))
			}
		}
		if len(missing) == 0 {
			return found, nil
		}
		if time.Now().After(deadline) {
			return nil, fmt.Errorf("no disk carries the volume of %s after %s; attach the volume disks to the VM (a volume detached in vSphere is attached again by the next apply)", strings.Join(missing, ", "), volumeWait)
		}
		time.Sleep(200 * time.Millisecond)
	}
}

// growFilesystem grows the mounted filesystem to its disk when the disk is larger (the volume
// was extended since it was made). A failure is logged, not fatal: the data is all there.
func growFilesystem(device, mountpoint string) {
	blocks, blockSize, err := filesystemBlocks("/dev/" + device)
	if err != nil {
		logf("volume /dev/%s: reading its superblock to check its size: %v", device, err)
		return
	}
	text, err := os.ReadFile("/sys/class/block/" + device + "/size")
	if err != nil {
		return
	}
	sectors, err := strconv.ParseUint(strings.TrimSpace(string(text)), 10, 64)
	if err != nil || blockSize == 0 {
		return
	}
	want := sectors * 512 / blockSize
	if want <= blocks {
		return
	}
	dir, err := os.Open(mountpoint)
	if err != nil {
		return
	}
	defer dir.Close()
	if _, _, errno := syscall.Syscall(syscall.SYS_IOCTL, dir.Fd(), ext4IocResizeFs, uintptr(unsafe.Pointer(&want))); errno != 0 {
		logf("volume /dev/%s: growing its filesystem from %d to %d blocks: %v", device, blocks, want, errno)
		return
	}
	logf("volume /dev/%s: filesystem grown from %d to %d blocks", device, blocks, want)
}

// filesystemBlocks reads the block count and block size from an ext4 superblock.
func filesystemBlocks(device string) (uint64, uint64, error) {
	f, err := os.Open(device)
	if err != nil {
		return 0, 0, err
	}
	defer f.Close()
	sb := make([]byte, ext4SuperblockSize)
	if _, err := f.ReadAt(sb, ext4SuperblockOffset); err != nil {
		return 0, 0, err
	}
	return superblockBlocks(sb)
}
