"""The warehouses of a development install: three in three regions and a `nearest` pool over them.

`load_demo_data` stocks them, and `simulate_orders` sells from them, so that a
`make run` install shows one network in the admin and the simulator exercises
routing by distance and split lines. Made through the services, idempotently: a
warehouse or pool whose code is in use is kept as it is (a person may have changed it).
"""

from dataclasses import dataclass

from inventory import services
from inventory.exceptions import CodeInUse
from inventory.models import PoolStrategy


@dataclass(frozen=True)
class Site:
    code: str
    name: str
    region: str
    latitude: float
    longitude: float


SITES = (
    Site("sh-1", "Shanghai", "east", 31.23, 121.47),
    Site("bj-1", "Beijing", "north", 39.90, 116.40),
    Site("gz-1", "Guangzhou", "south", 23.13, 113.26),
)
POOL = "cn"


def ensure_demo_network(actor: str) -> int:
    """Create the sites and the pool where missing; how many of them were created."""
    created = 0
    for priority, site in enumerate(SITES, start=1):
        try:
            services.create_warehouse(
                code=site.code,
                name=site.name,
                region=site.region,
                latitude=site.latitude,
                longitude=site.longitude,
                # After `default` (0) in the pool `all`; the tie-break of `nearest`.
                priority=priority,
                actor=actor,
            )
            created += 1
        except CodeInUse:
            pass
    try:
        services.create_pool(
            code=POOL,
            name="China, nearest first",
            warehouses=[site.code for site in SITES],
            strategy=PoolStrategy.NEAREST,
            actor=actor,
        )
        created += 1
    except CodeInUse:
        pass
    return created
