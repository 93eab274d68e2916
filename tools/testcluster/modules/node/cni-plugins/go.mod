// Builds the CNI plugins (bridge, host-local, loopback, portmap) of the test cluster's real node; nothing imports it.
module homelab.mlflow/testcluster/node/cni-plugins

go 1.26.8

require github.com/containernetworking/plugins v1.10.0 // indirect
