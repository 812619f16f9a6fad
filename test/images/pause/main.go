// The pod sandbox ("pause") image of the e2e cluster: the kubelet starts one per pod to hold the
// pod's namespaces, and no registry is reachable to pull the usual one. It only has to stay up
// until the kubelet stops the sandbox, then exit 0.
//
// Built static (CGO_ENABLED=0) by .ci/build-images.sh into an image FROM scratch.
package main

import (
	"os"
	"os/signal"
	"syscall"
)

func main() {
	// As PID 1 of its namespace the process gets no default signal actions: without handlers,
	// SIGTERM would be ignored and the sandbox would only go away with SIGKILL after the grace
	// period.
	stop := make(chan os.Signal, 1)
	signal.Notify(stop, syscall.SIGTERM, syscall.SIGINT)
	<-stop
	os.Exit(0)
}
