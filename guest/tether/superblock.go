package main

import (
	"encoding/binary"
	"errors"
	"fmt"
	"strings"
)

// The ext4 superblock sits 1024 bytes into the device; offsets below are within it
// (Linux fs/ext4/ext4.h, struct ext4_super_block).
const (
	ext4SuperblockOffset = 1024
	ext4SuperblockSize   = 1024
	ext4MagicOffset      = 0x38
	ext4Magic            = 0xEF53
	ext4UUIDOffset       = 0x68
	ext4LabelOffset      = 0x78
	ext4LabelSize        = 16
)

// Ext4Identity is what identifies a filesystem: its UUID and volume label.
type Ext4Identity struct {
	UUID  string
	Label string
}

var errNotExt4 = errors.New("no ext2/3/4 superblock")

// ReadExt4Identity reads the UUID and label from the first 2048 bytes of a block device. It
// reads the superblock itself so the initramfs needs no blkid.
func ReadExt4Identity(head []byte) (Ext4Identity, error) {
	if len(head) < ext4SuperblockOffset+ext4SuperblockSize {
		return Ext4Identity{}, fmt.Errorf("%w: device shorter than %d bytes", errNotExt4, ext4SuperblockOffset+ext4SuperblockSize)
	}
	sb := head[ext4SuperblockOffset : ext4SuperblockOffset+ext4SuperblockSize]
	if binary.LittleEndian.Uint16(sb[ext4MagicOffset:]) != ext4Magic {
		return Ext4Identity{}, errNotExt4
	}
	return Ext4Identity{
		UUID:  formatUUID(sb[ext4UUIDOffset : ext4UUIDOffset+16]),
		Label: strings.TrimRight(string(sb[ext4LabelOffset:ext4LabelOffset+ext4LabelSize]), "\x00"),
	}, nil
}

func formatUUID(b []byte) string {
	return fmt.Sprintf("%x-%x-%x-%x-%x", b[0:4], b[4:6], b[6:8], b[8:10], b[10:16])
}

// BlockDevice is one candidate seen while scanning, with what its superblock said.
type BlockDevice struct {
	Name     string
	Identity Ext4Identity
	Err      error
}

// ChooseRootfs picks the container disk among the scanned devices: the UUID wins; the label is
// the fallback when no device carries the UUID (e.g. an image disk written before UUIDs were
// derived from digests). It reports whether the choice was by label only.
func ChooseRootfs(devices []BlockDevice, want RootfsRef) (device BlockDevice, byLabel bool, found bool) {
	if want.UUID != "" {
		for _, d := range devices {
			if d.Err == nil && strings.EqualFold(d.Identity.UUID, want.UUID) {
				return d, false, true
			}
		}
	}
	label := want.Label
	if label == "" {
		label = DefaultRootfsLabel
	}
	for _, d := range devices {
		if d.Err == nil && d.Identity.Label == label {
			return d, true, true
		}
	}
	return BlockDevice{}, false, false
}
