"""Features that plug extra channels, logins and demo data into the core, wired in one place."""

from __future__ import annotations

from bascule.context import Context


def install_features(ctx: Context) -> None:
    """Register every optional feature on the context (called by bootstrap and by tests)."""
    ctx.extras.setdefault("channel_installers", [])
    ctx.extras.setdefault("demo_loaders", [])
    ctx.extras.setdefault("principal_resolvers", {})
    _install_prepaid(ctx)
    _add_channel(ctx, "bascule.channels.ussd.routes")
    _add_channel(ctx, "bascule.channels.portal")
    _add_channel(ctx, "bascule.channels.rest.health")  # request logs, metrics, headers, login throttling
    _install_provisioning(ctx)
    _add_channel(ctx, "bascule.channels.tmf")


def _install_provisioning(ctx: Context) -> None:
    """Who hears of a provisioning job's end: the feature that owns its subject."""
    from bascule.evolutions import provisioning as line_a
    from bascule.prepaid import provisioning as line_b

    ctx.extras.setdefault("job_outcomes", {})["service"] = (line_a.on_job_succeeded, line_a.on_job_failed)
    ctx.extras.setdefault("job_wanted", {})["service"] = line_a.job_wanted
    ctx.extras.setdefault("jobs_all_held_done", {})["service"] = line_a.complete_held
    ctx.extras["job_outcomes"]["subscriber"] = (line_b.on_job_succeeded, line_b.on_job_failed)
    ctx.extras.setdefault("job_retry_wanted", {}).update(service=line_a.retry_wanted, subscriber=line_b.retry_wanted)
    _add_channel(ctx, "bascule.channels.rest.routes.simulated_networks")


def _add_once(items: list[object], item: object) -> None:
    if item not in items:
        items.append(item)


def _install_prepaid(ctx: Context) -> None:
    """Line B: its REST routes, subscriber tokens, one-time-code login and demo subscribers."""
    from bascule.demo import line_b
    from bascule.prepaid.usecases import login_subscriber, resolve_subscriber

    _add_channel(ctx, "bascule.channels.rest.routes.prepaid")
    _add_once(ctx.extras["demo_loaders"], line_b.load)
    ctx.extras["principal_resolvers"]["subscriber"] = resolve_subscriber
    ctx.extras["subscriber_login"] = login_subscriber


def _add_channel(ctx: Context, module: str) -> None:
    """A channel module's `install(app, settings, ctx)`, registered once even if called twice."""
    from importlib import import_module

    installer = import_module(module).install
    if installer not in ctx.extras["channel_installers"]:
        ctx.extras["channel_installers"].append(installer)
