module sts-sidecar/test/images/pause

go 1.24
