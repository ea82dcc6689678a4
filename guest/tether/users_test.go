package main

import (
	"reflect"
	"strings"
	"testing"
)

const imagePasswd = `root:x:0:0:root:/root:/bin/sh
# a comment
app:x:1000:1001:App:/home/app:/bin/sh
short:line
nohome:x:1002:1002::/:/bin/sh
`

const imageGroup = `root:x:0:
app:x:1001:
web:x:2000:app,other
audio:x:2001:app
`

func TestResolveUser_GivenDockerUserSpecs(t *testing.T) {
	cases := []struct {
		spec string
		want Identity
	}{
		{"", Identity{UID: 0, GID: 0, Groups: []uint32{0}, Home: "/root"}},
		{"0:0", Identity{UID: 0, GID: 0, Groups: []uint32{0}, Home: "/root"}},
		{"app", Identity{UID: 1000, GID: 1001, Groups: []uint32{1001, 2000, 2001}, Home: "/home/app"}},
		{"1000", Identity{UID: 1000, GID: 1001, Groups: []uint32{1001, 2000, 2001}, Home: "/home/app"}},
		{"app:web", Identity{UID: 1000, GID: 2000, Groups: []uint32{2000}, Home: "/home/app"}},
		{"1000:5", Identity{UID: 1000, GID: 5, Groups: []uint32{5}, Home: "/home/app"}},
		{"4242", Identity{UID: 4242, GID: 0, Groups: []uint32{0}, Home: "/"}},
		{"4242:4243", Identity{UID: 4242, GID: 4243, Groups: []uint32{4243}, Home: "/"}},
	}
	for _, tc := range cases {
		t.Run(tc.spec, func(t *testing.T) {
			got, err := ResolveUser(tc.spec, strings.NewReader(imagePasswd), strings.NewReader(imageGroup))
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(got, tc.want) {
				t.Fatalf("GIVEN user %q THEN %+v, got %+v", tc.spec, tc.want, got)
			}
		})
	}
}

func TestResolveUser_GivenUnknownNames_ThenTheErrorSaysWhatToDo(t *testing.T) {
	cases := map[string]string{
		"nobody":    `unable to find user nobody: no matching entries in passwd file: "nobody" is not in the image's /etc/passwd`,
		"app:staff": `unable to find group staff: no matching entries in group file: "staff" is not in the image's /etc/group`,
	}
	for spec, want := range cases {
		_, err := ResolveUser(spec, strings.NewReader(imagePasswd), strings.NewReader(imageGroup))
		if err == nil || !strings.Contains(err.Error(), want) || !strings.Contains(err.Error(), `field "user"`) {
			t.Errorf("GIVEN %q THEN the error contains %q, got %v", spec, want, err)
		}
	}
}

func TestResolveUser_GivenAnImageWithoutPasswd_ThenNumericIdsStillWork(t *testing.T) {
	got, err := ResolveUser("7:8", nil, nil)
	if err != nil || got.UID != 7 || got.GID != 8 || got.Home != "/" {
		t.Fatalf("got %+v, %v", got, err)
	}
}
