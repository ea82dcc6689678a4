package main

import (
	"encoding/binary"
	"path"
	"strings"
)

// MountConfig is one volume to mount before the process starts: the disk whose ext4 filesystem
// has UUID, at Path inside the container.
type MountConfig struct {
	Path     string
	ReadOnly bool
	UUID     string
}

type mountDocument struct {
	Path     string `json:"path"`
	ReadOnly bool   `json:"read_only"`
	UUID     string `json:"uuid"`
}

// parseMounts checks the mounts as the resource does (absolute, not "/", each path once), since
// a config may come from elsewhere, and reports each problem by its field.
func parseMounts(docs []mountDocument, add func(format string, args ...any)) []MountConfig {
	var mounts []MountConfig
	seen := map[string]int{}
	for i, m := range docs {
		clean := path.Clean(m.Path)
		switch {
		case !strings.HasPrefix(m.Path, "/"):
			add(`field "mounts[%d].path": %q is not an absolute path`, i, m.Path)
		case clean == "/":
			add(`field "mounts[%d].path": %q is the container's root, which holds the image`, i, m.Path)
		}
		if first, dup := seen[clean]; dup {
			add(`field "mounts[%d].path": %q is mounted by mounts[%d] already`, i, m.Path, first)
		} else {
			seen[clean] = i
		}
		uuid := strings.ToLower(m.UUID)
		if !uuidPattern.MatchString(uuid) {
			add(`field "mounts[%d].uuid": %q is not a UUID (8-4-4-4-12 hex digits)`, i, m.UUID)
		}
		mounts = append(mounts, MountConfig{Path: clean, ReadOnly: m.ReadOnly, UUID: uuid})
	}
	return mounts
}

// superblockBlocks decodes s_blocks_count (with its high half on 64-bit filesystems) and the block size.
func superblockBlocks(sb []byte) (uint64, uint64, error) {
	if len(sb) < 0x158 || binary.LittleEndian.Uint16(sb[ext4MagicOffset:]) != ext4Magic {
		return 0, 0, errNotExt4
	}
	blocks := uint64(binary.LittleEndian.Uint32(sb[0x4:]))
	const incompat64bit = 0x80
	if binary.LittleEndian.Uint32(sb[0x60:])&incompat64bit != 0 {
		blocks |= uint64(binary.LittleEndian.Uint32(sb[0x150:])) << 32
	}
	return blocks, 1024 << binary.LittleEndian.Uint32(sb[0x18:]), nil
}
