// Builds containerd, its runc shim and ctr for the test cluster's real node; nothing imports it.
module homelab.mlflow/testcluster/node/containerd

go 1.26.6

require github.com/containerd/containerd/v2 v2.4.2 // indirect
