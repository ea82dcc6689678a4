package main

import (
	"bufio"
	"fmt"
	"io"
	"strconv"
	"strings"
)

// Identity is the user a container process runs as.
type Identity struct {
	UID    uint32
	GID    uint32
	Groups []uint32
	Home   string
}

type passwdEntry struct {
	name     string
	uid, gid uint32
	home     string
}

type groupEntry struct {
	name    string
	gid     uint32
	members []string
}

// ResolveUser maps the config's "user" ("", "uid", "uid:gid", "name", "name:group") to ids,
// the way Docker does: a numeric uid needs no passwd entry (gid 0 then), a name must exist in the
// image's /etc/passwd, and supplementary groups come from the image's /etc/group.
func ResolveUser(spec string, passwd, group io.Reader) (Identity, error) {
	users, err := parsePasswd(passwd)
	if err != nil {
		return Identity{}, fmt.Errorf("reading the image's /etc/passwd: %w", err)
	}
	groups, err := parseGroup(group)
	if err != nil {
		return Identity{}, fmt.Errorf("reading the image's /etc/group: %w", err)
	}
	if spec == "" {
		spec = "0"
	}
	userPart, groupPart, hasGroup := strings.Cut(spec, ":")

	id := Identity{Home: "/"}
	var entry *passwdEntry
	if uid, err := strconv.ParseUint(userPart, 10, 32); err == nil {
		id.UID = uint32(uid)
		for i := range users {
			if users[i].uid == id.UID {
				entry = &users[i]
				break
			}
		}
	} else {
		for i := range users {
			if users[i].name == userPart {
				entry = &users[i]
				break
			}
		}
		if entry == nil {
			return Identity{}, fmt.Errorf(`field "user": unable to find user %s: no matching entries in passwd file: %q is not in the image's /etc/passwd (use a numeric uid, or add the user to the image)`, userPart, userPart)
		}
		id.UID = entry.uid
	}
	if entry != nil {
		id.GID = entry.gid
		if entry.home != "" {
			id.Home = entry.home
		}
	}
	if hasGroup {
		if gid, err := strconv.ParseUint(groupPart, 10, 32); err == nil {
			id.GID = uint32(gid)
		} else {
			found := false
			for _, g := range groups {
				if g.name == groupPart {
					id.GID, found = g.gid, true
					break
				}
			}
			if !found {
				return Identity{}, fmt.Errorf(`field "user": unable to find group %s: no matching entries in group file: %q is not in the image's /etc/group (use a numeric gid, or add the group to the image)`, groupPart, groupPart)
			}
		}
	}
	id.Groups = []uint32{id.GID}
	if entry != nil && !hasGroup {
		for _, g := range groups {
			for _, m := range g.members {
				if m == entry.name && g.gid != id.GID {
					id.Groups = append(id.Groups, g.gid)
				}
			}
		}
	}
	return id, nil
}

func parsePasswd(r io.Reader) ([]passwdEntry, error) {
	var out []passwdEntry
	err := eachColonLine(r, 7, func(f []string) {
		uid, err1 := strconv.ParseUint(f[2], 10, 32)
		gid, err2 := strconv.ParseUint(f[3], 10, 32)
		if err1 == nil && err2 == nil {
			out = append(out, passwdEntry{name: f[0], uid: uint32(uid), gid: uint32(gid), home: f[5]})
		}
	})
	return out, err
}

func parseGroup(r io.Reader) ([]groupEntry, error) {
	var out []groupEntry
	err := eachColonLine(r, 4, func(f []string) {
		gid, err := strconv.ParseUint(f[2], 10, 32)
		if err != nil {
			return
		}
		var members []string
		if f[3] != "" {
			members = strings.Split(f[3], ",")
		}
		out = append(out, groupEntry{name: f[0], gid: uint32(gid), members: members})
	})
	return out, err
}

// eachColonLine calls fn with the fields of every well-formed line; images in the wild carry
// comments and short lines, which are skipped rather than fatal.
func eachColonLine(r io.Reader, fields int, fn func([]string)) error {
	if r == nil {
		return nil
	}
	sc := bufio.NewScanner(r)
	for sc.Scan() {
		line := strings.TrimSpace(sc.Text())
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		f := strings.Split(line, ":")
		if len(f) < fields {
			continue
		}
		fn(f)
	}
	return sc.Err()
}
