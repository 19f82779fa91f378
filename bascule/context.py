"""What every use case receives: the catalogue, the clock and a way to open a unit of work.

No database here: `units` opens the units of work (the SQL ones are built in `bascule.persistence.context`
and wired in `bascule.bootstrap`), so a use case runs as well on fakes of its ports. The optional features'
wiring (`Features`) is filled by `bascule.bootstrap.install_features`; what a channel keeps for the life of the
context (a throttle's counts, say) is kept under a typed key its module declares (`Kept`), since this module
cannot name the channels' types.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field, replace
from typing import Any, Generic

from typing_extensions import TypeVar

from bascule.catalog.live import LiveCatalog
from bascule.catalog.model import Catalog
from bascule.kernel.clock import Clock
from bascule.kernel.ports import InlineProvisioner, Units
from bascule.settings import Settings

U_co = TypeVar("U_co", covariant=True, default=Any)  # the unit of work the use cases of a feature see (its ports)
T = TypeVar("T")


@dataclass
class JobHooks:
    """Who hears of a provisioning job, by the kind of its subject: the feature that owns the subject."""

    outcomes: dict[str, tuple[Callable[..., object], Callable[..., object]]] = field(default_factory=dict)
    wanted: dict[str, Callable[..., bool]] = field(default_factory=dict)  # is the job still wanted?
    all_held_done: dict[str, Callable[..., object]] = field(default_factory=dict)  # every job of a lease succeeded
    retry_wanted: dict[str, Callable[..., str | None]] = field(default_factory=dict)  # None, or why not (a reason)


@dataclass
class Features:
    """The optional features as `bascule.bootstrap.install_features` registers them."""

    # A channel's `install(app, settings, ctx)`, called by the application it joins (the app: a FastAPI).
    channel_installers: list[Callable[[Any, Settings, Context], None]] = field(default_factory=list)
    demo_loaders: list[Callable[[Context], list[str]]] = field(default_factory=list)  # demo data of a feature
    # How a token of another kind of principal (an operator's session, a subscriber's) is resolved: a
    # `Principal` from the unit of work and the principal's id, or a refusal (identity checks what it returns).
    principal_resolvers: dict[str, Callable[[Any, str], object]] = field(default_factory=dict)
    # A subscriber's login with a one-time code (msisdn, code): an `IssuedToken`, when Line B is installed.
    subscriber_login: Callable[[Context, str, str], object] | None = None


class Kept(Generic[T]):
    """The key of an object kept on the context, declared with its type by the module that owns it:
    `PORTAL_THROTTLE: Kept[PortalThrottle] = Kept("portal throttle")`."""

    __slots__ = ("name",)

    def __init__(self, name: str) -> None:
        self.name = name

    def __repr__(self) -> str:
        return f"Kept({self.name!r})"


class KeptObjects:
    """What the channels and the wiring keep for the life of a context (a throttle's counts, the simulated
    networks), one object per key, shared by every app built on it and by the copies a command makes of it."""

    def __init__(self) -> None:
        self._objects: dict[Kept[Any], Any] = {}

    def get(self, key: Kept[T]) -> T | None:
        found: T | None = self._objects.get(key)
        return found

    def setdefault(self, key: Kept[T], make: Callable[[], T]) -> T:
        """The object kept under `key`, made (once) when there is none yet."""
        found: T | None = self._objects.get(key)
        if found is None:
            found = self._objects.setdefault(key, make())
        return found


@dataclass
class Context(Generic[U_co]):
    catalogs: LiveCatalog  # the catalogue in force (shared by the copies a command makes)
    clock: Clock
    units: Units[U_co] = field(repr=False)
    token_ttl_hours: int = 12
    provisioner: InlineProvisioner | None = None  # the worker of this process, when confirmations wait for it
    provisioning_max_attempts: int = 6
    job_hooks: JobHooks = field(default_factory=JobHooks)
    deliver_notifications: Callable[[], object] | None = None  # a round of the outbox, for the worker
    features: Features = field(default_factory=Features)
    kept: KeptObjects = field(default_factory=KeptObjects, repr=False)

    @property
    def catalog(self) -> Catalog:
        """The catalogue in force: the shipped file with the supervisors' overrides."""
        return self.catalogs.current

    @catalog.setter
    def catalog(self, value: Catalog) -> None:
        self.catalogs.current = value

    def uow(self, *, write: bool = True) -> U_co:
        """A unit of work of the use case: its own transaction, or a part of the command's inside one."""
        return self.units(write=write)

    @property
    def within_command(self) -> bool:
        """True inside a command (`in_command`): the command commits, once."""
        return self.units.in_command

    def in_command(self, unit: Any) -> Context[U_co]:
        """This context for the use cases of one command: their units of work join the command's."""
        return replace(self, units=self.units.joining(unit))
