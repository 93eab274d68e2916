"""What the CloudNativePG stand-in's Services point at when real servers run: EndpointSlices and ports."""

from __future__ import annotations

from _cnpg_postgres import SLICE_MANAGER, endpoint_slices, instance_names, service_spec, slice_instances

CLUSTER = {"metadata": {"name": "pg", "namespace": "db", "uid": "u-1"}, "spec": {"instances": 3}}
PORTS = {"pg-1": 41001, "pg-2": 41002, "pg-3": 41003}


def meta_of(name: str, labels: dict) -> dict:
    return {"name": name, "namespace": "db", "labels": labels}


def test_instances_are_numbered_from_the_primary():
    assert instance_names("pg", 3) == ["pg-1", "pg-2", "pg-3"]


def test_rw_is_the_primary_ro_the_standbys_and_r_every_instance():
    names = list(PORTS)

    assert slice_instances("rw", names) == ["pg-1"]
    assert slice_instances("ro", names) == ["pg-2", "pg-3"]
    assert slice_instances("r", names) == names
    assert slice_instances("ro", ["pg-1"]) == []


def test_one_slice_per_service_and_instance_at_the_servers_address_and_port():
    slices = {s["metadata"]["name"]: s for s in endpoint_slices(CLUSTER, meta_of, "192.0.2.2", PORTS)}

    assert sorted(slices) == ["pg-r-1", "pg-r-2", "pg-r-3", "pg-ro-2", "pg-ro-3", "pg-rw-1"]
    standby = slices["pg-ro-3"]
    assert standby["metadata"]["labels"] == {
        "kubernetes.io/service-name": "pg-ro",
        "endpointslice.kubernetes.io/managed-by": SLICE_MANAGER,
    }
    assert standby["addressType"] == "IPv4"
    assert [e["addresses"] for e in standby["endpoints"]] == [["192.0.2.2"]]
    assert standby["endpoints"][0]["conditions"]["ready"] is True
    # The port's name is the Service port's: that is how a proxy pairs them.
    assert standby["ports"] == [{"name": "postgres", "port": 41003, "protocol": "TCP"}]


def test_the_service_port_maps_to_the_first_server_behind_it():
    assert service_spec("rw", PORTS)["ports"] == [
        {"name": "postgres", "port": 5432, "targetPort": 41001, "protocol": "TCP"}
    ]
    assert service_spec("ro", PORTS)["ports"][0]["targetPort"] == 41002
    assert service_spec("ro", {"pg-1": 41001})["ports"][0]["targetPort"] == 5432
