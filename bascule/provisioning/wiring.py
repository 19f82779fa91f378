"""Building the networks and the worker from settings."""

from __future__ import annotations

import json
from datetime import timedelta

from bascule.context import Context
from bascule.provisioning.model import CHARGING_SYSTEM
from bascule.provisioning.network import HttpOperatorAdapter, NetworkAdapter, Networks
from bascule.provisioning.simulator import SimulatedOperator
from bascule.provisioning.worker import Provisioner, WorkerConfig
from bascule.settings import Settings


def network_names(ctx: Context) -> list[str]:
    return [network.id for network in ctx.catalog.networks] + [CHARGING_SYSTEM]


def build_provisioner(ctx: Context, settings: Settings) -> Provisioner:
    names = network_names(ctx)
    adapters: dict[str, NetworkAdapter]
    if settings.network_url:
        token = settings.admin_token.get_secret_value() if settings.admin_token else None
        adapters = {name: HttpOperatorAdapter(settings.network_url, name, token=token) for name in names}
    else:
        simulators = {name: SimulatedOperator(name) for name in names}
        faults = json.loads(settings.network_faults) if settings.network_faults else {}
        for name, changes in faults.items():
            simulators[name].configure(**changes)
        ctx.extras["simulated_networks"] = simulators
        adapters = dict(simulators)
    config = WorkerConfig(
        lease=timedelta(seconds=settings.provisioning_lease_seconds),
        backoff_base=timedelta(seconds=settings.provisioning_backoff_seconds),
        backoff_cap=timedelta(seconds=settings.provisioning_backoff_cap_seconds),
        inline_seconds=settings.provisioning_inline_seconds,
    )
    ctx.extras["max_attempts"] = settings.provisioning_max_attempts
    return Provisioner(ctx, Networks(adapters), config)
