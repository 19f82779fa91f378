"""One USSD exchange: the gateway's call in, a screen out, the session's state kept in between.

The state of a session holds the inputs already answered and the screen sent for them (a gateway
retry gets the same screen and never runs an action twice), whether the session has ended, and
every list already shown (so numbers keep their meaning for the rest of the session).

A confirmation the domain refuses (the subscriber is no longer eligible, the month's changes were used
meanwhile) does not end the session: the list comes back, read afresh, with the reason on top. The state
then keeps `resume`: the inputs that lead to that list (`base`) and how many of the gateway's inputs are
behind it (`after`), so the walk goes on from the list and never meets the refused confirmation again.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from typing import Any, TypeVar

from bascule.channels.ussd import screens
from bascule.channels.ussd.engine import Ask, Item, Outcome, Refuse, Run, Show, Tree, walk
from bascule.channels.ussd.menu import TREE, entry_inputs, user_inputs
from bascule.channels.ussd.screens import Caller
from bascule.channels.ussd.sessions import SessionStore, StoredSession
from bascule.context import Context
from bascule.kernel.errors import DomainError, ErrorCode
from bascule.kernel.gsm0338 import clip, to_gsm
from bascule.kernel.messages_fr import short_message

T = TypeVar("T")

UNKNOWN_CODE = "Ce code n'est pas reconnu. Composez le #121#."
NOT_A_SUBSCRIBER = "Désolé, ce service est réservé aux abonnés prépayés. Contactez votre service client."
UNAVAILABLE = "Service momentanément indisponible. Merci de réessayer plus tard."


@dataclass(frozen=True, slots=True)
class Call:
    session_id: str
    service_code: str
    msisdn: str
    text: str


@dataclass(frozen=True, slots=True)
class Reply:
    """A screen as the gateway sends it: written in GSM 03.38 (the letters it lacks transliterated, é è à ù...
    kept), and cut to one screen as a last resort (the screens are made to fit: tests/ussd/golden)."""

    final: bool
    text: str

    @classmethod
    def end(cls, text: str) -> Reply:
        return cls(True, clip(to_gsm(text)))

    @classmethod
    def ask(cls, text: str) -> Reply:
        return cls(False, clip(to_gsm(text)))

    def wire(self) -> str:
        return ("END " if self.final else "CON ") + self.text


@dataclass
class Session:
    """One walk of the menu for one caller, with the lists the session has already shown; `back` is set when an
    action was refused and its list shown again (the inputs that lead to it)."""

    caller: Caller
    tree: Tree
    lists: dict[str, list[dict[str, Any]]] = field(default_factory=dict)
    back: tuple[str, ...] | None = None

    def items(self, source: str) -> Sequence[Item]:
        if source not in self.lists:
            self.lists[source] = [item.as_dict() for item in screens.SOURCES[source](self.caller)]
        return [Item.from_dict(data) for data in self.lists[source]]

    def answer(self, inputs: list[str], fresh: bool) -> Reply:
        try:
            if fresh:
                self.caller.require_subscriber()  # an unknown number stops here, before the first menu
            return self.conclude(walk(self.tree, inputs, self.items, replay=fresh))
        except DomainError as error:
            if error.code is ErrorCode.NOT_FOUND:
                return Reply.end(NOT_A_SUBSCRIBER)
            return Reply.end(short_message(error))

    def conclude(self, outcome: Outcome) -> Reply:
        if isinstance(outcome, Ask):
            return Reply.ask(outcome.text)
        if isinstance(outcome, Refuse):
            return Reply.end(outcome.text)
        if isinstance(outcome, Show):
            return Reply.end(screens.VIEWS[outcome.view](self.caller, outcome.picked))
        if isinstance(outcome, Run):
            return self.run(outcome)
        raise TypeError(outcome)

    def run(self, outcome: Run) -> Reply:
        done = screens.ACTIONS[outcome.action](self.caller, outcome.picked)
        if not done.refused or outcome.back is None or outcome.source is None:
            return Reply.end(done.text)
        self.lists.pop(outcome.source, None)  # read again: the marks of its entries may have changed with the refusal
        again = walk(self.tree, outcome.back, self.items, notice=done.text)
        if not isinstance(again, Ask):
            return Reply.end(done.text)
        self.back = outcome.back
        return Reply.ask(again.text)


OffLoop = Callable[[Callable[[], T]], Awaitable[T]]


class UssdService:
    def __init__(self, ctx: Context, store: SessionStore, tree: Tree = TREE) -> None:
        self.ctx = ctx
        self.store = store
        self.tree = tree

    async def answer(self, call: Call, off_loop: OffLoop[tuple[Reply, dict[str, Any]]]) -> Reply:
        """The screen for `call`. The session is read and saved here, on the event loop; the screen itself (the
        menu's walk, which reads and writes the database) runs through `off_loop`: in a worker thread, or on
        PostgreSQL on the loop through `greenlet_spawn` (`routes.screens_off_the_loop`). A gateway's retry of the
        last call, or any call after the session ended, gets the screen already sent, and nothing runs."""
        given = entry_inputs(call.service_code)
        if given is None:
            return Reply.end(UNKNOWN_CODE)
        inputs = given + user_inputs(call.text)
        saved = await self._resume(call)
        if saved is not None and (saved.state["final"] or saved.state["inputs"] == inputs):
            return Reply(saved.state["final"], saved.state["screen"])
        reply, state = await off_loop(lambda: self._screen(call, inputs, saved))
        await self.store.save(call.session_id, StoredSession(call.msisdn, state))
        return reply

    def _screen(self, call: Call, inputs: list[str], saved: StoredSession | None) -> tuple[Reply, dict[str, Any]]:
        """The reply to `inputs`, walked from the session as saved, and the session's state to save after it."""
        lists = saved.state["lists"] if saved is not None else {}
        resume = saved.state.get("resume") if saved is not None else None
        walked = inputs if resume is None else [*resume["base"], *inputs[resume["after"] :]]
        session = Session(Caller(self.ctx, call.msisdn), self.tree, lists)
        reply = session.answer(walked, fresh=saved is None)
        if session.back is not None:
            resume = {"base": list(session.back), "after": len(inputs)}
        state = {"inputs": inputs, "final": reply.final, "screen": reply.text, "lists": session.lists, "resume": resume}
        return reply, state

    async def _resume(self, call: Call) -> StoredSession | None:
        saved = await self.store.load(call.session_id)
        if saved is None or saved.msisdn != call.msisdn:
            return None  # a session id is never shared between two numbers
        return saved
