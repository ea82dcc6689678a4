package main

import (
	"bufio"
	"bytes"
	"compress/bzip2"
	"compress/gzip"
	"errors"
	"fmt"
	"io"
)

// Decompressed reads an archive as dockerd's PUT archive takes it: plain, or compressed with gzip
// or bzip2, told apart by its first bytes (Testcontainers' CopyToContainer sends gzip). xz and zstd,
// which dockerd also reads, are refused saying so: the guest carries no decoder for them.
func Decompressed(r io.Reader) (io.Reader, error) {
	br := bufio.NewReader(r)
	head, err := br.Peek(6)
	if err != nil && !errors.Is(err, io.EOF) {
		return nil, err
	}
	switch {
	case bytes.HasPrefix(head, []byte{0x1f, 0x8b}):
		z, err := gzip.NewReader(br)
		if err != nil {
			return nil, fmt.Errorf("reading the gzip-compressed archive: %v", err)
		}
		return z, nil
	case bytes.HasPrefix(head, []byte("BZh")):
		return bzip2.NewReader(br), nil
	case bytes.HasPrefix(head, []byte{0xfd, '7', 'z', 'X', 'Z', 0x00}):
		return nil, errors.New("the archive is xz-compressed, which this guest cannot read: send it plain, or compressed with gzip or bzip2")
	case bytes.HasPrefix(head, []byte{0x28, 0xb5, 0x2f, 0xfd}):
		return nil, errors.New("the archive is zstd-compressed, which this guest cannot read: send it plain, or compressed with gzip or bzip2")
	}
	return br, nil
}
