// Pins CloudNativePG's release for the CRDs the test cluster takes from its module (crds.yaml:
// `module: cloudnative-pg`); nothing is built from it and nothing imports it.
module homelab.mlflow/testcluster/cloudnative-pg

go 1.26.0

require github.com/cloudnative-pg/cloudnative-pg v1.30.0
