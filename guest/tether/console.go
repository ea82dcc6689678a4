package main

import (
	"fmt"
	"os"
)

// consolePrefix marks the tether's own lines on the serial console; everything else there is
// the kernel's or the container's (docs/guest-config.md, "Console protocol").
const consolePrefix = "vic-tether: "

func logf(format string, args ...any) {
	fmt.Fprintf(os.Stdout, consolePrefix+format+"\n", args...)
}
