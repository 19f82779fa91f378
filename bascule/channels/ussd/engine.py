"""A menu engine for USSD: it walks the user's inputs from the root of a tree of nodes declared as data.

The gateway sends every input of the session again each time (`text` = "1*2*1"), so a screen is a
pure function of the inputs and of the lists already shown in the session (kept by the caller so
that numbers keep their meaning when the data behind them changes). The engine never runs a use
case: it tells the caller which view to show or which action to run, with the item picked.

Inputs: a number picks an entry, `0` goes back (a list's previous page, else the previous screen),
`00` goes home, `9` shows a list's next page; anything else re-prompts the same screen. An entry of a
list that cannot be had brings the same list back with the reason on top, in the same session; so does a
confirmation the domain refuses (`Run.back` is the way to that list, which the caller walks again).

Screens are written in French as it is written (accents, a space before ":" and "?"); they are measured
as the gateway will send them, in GSM 03.38 (`width`), and the channel writes them so at the edge.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from enum import Enum
from functools import lru_cache

from bascule.kernel.gsm0338 import SCREEN_SEPTETS, clip, septets, to_gsm

BACK, HOME, NEXT = "0", "00", "9"
INVALID = "Choix invalide."
# A confirmation met before the last input was refused by the domain (else the session would have ended), in a
# session whose state is lost: what was typed after it answered the screens its state would have drawn.
LOST = "Votre session a expiré. Merci de composer à nouveau le code du service."
MAX_PER_PAGE = 8  # 1-8 pick, 9 is "Suite", 0 is "Retour"
NAV_BACK, NAV_HOME, NAV_NEXT = "0 Retour", "00 Accueil", "9 Suite"


@dataclass(frozen=True, slots=True)
class Choice:
    label: str
    target: str


@dataclass(frozen=True, slots=True)
class Menu:
    """Fixed numbered choices."""

    title: str
    choices: tuple[Choice, ...]


@dataclass(frozen=True, slots=True)
class Pick:
    """A list read once per session from `source`; an item goes to `target`, or, when it carries a refusal,
    brings the list back with the refusal in place of the title."""

    title: str
    source: str
    target: str


@dataclass(frozen=True, slots=True)
class Confirm:
    """ "1 Confirmer / 0 Retour" about the picked item; `prompt` may name it as {name}."""

    prompt: str
    action: str


@dataclass(frozen=True, slots=True)
class View:
    """A final screen (END) drawn by the view `view`, with the picked item if any."""

    view: str


Node = Menu | Pick | Confirm | View


@dataclass(frozen=True, slots=True)
class Tree:
    root: str
    nodes: Mapping[str, Node]

    def check(self) -> None:
        """Every target exists; called by the tests and at start-up."""
        for node_id, node in self.nodes.items():
            targets = [c.target for c in node.choices] if isinstance(node, Menu) else []
            targets += [node.target] if isinstance(node, Pick) else []
            for target in targets:
                if target not in self.nodes:
                    raise ValueError(f"node {node_id!r} leads to unknown node {target!r}")
        if self.root not in self.nodes:
            raise ValueError(f"unknown root {self.root!r}")


@dataclass(frozen=True, slots=True)
class Item:
    """An entry of a list: `key` for the use case, `label` for the screen, `name` for prompts."""

    key: str
    label: str
    name: str
    refusal: str | None = None

    def as_dict(self) -> dict[str, str | None]:
        return {"key": self.key, "label": self.label, "name": self.name, "refusal": self.refusal}

    @classmethod
    def from_dict(cls, data: Mapping[str, str | None]) -> Item:
        return cls(str(data["key"]), str(data["label"]), str(data["name"]), data.get("refusal"))


Items = Callable[[str], Sequence[Item]]


@dataclass(frozen=True, slots=True)
class Frame:
    """A screen of the walk; `path` is the shortest inputs that lead to it from the root."""

    node: str
    page: int = 0
    picked: Item | None = None
    path: tuple[str, ...] = ()


# What a walk comes to -----------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Ask:
    """A screen that expects input (CON)."""

    text: str


@dataclass(frozen=True, slots=True)
class Show:
    """A final screen drawn by a view (END)."""

    view: str
    picked: Item | None


@dataclass(frozen=True, slots=True)
class Run:
    """A confirmed action to run once; its result is the final screen (END), unless the domain refuses it: then
    the list it was picked from comes back with the refusal on top (CON), reached again by the inputs `back`
    with the list `source` read afresh."""

    action: str
    picked: Item | None
    back: tuple[str, ...] | None = None
    source: str | None = None


@dataclass(frozen=True, slots=True)
class Refuse:
    """A final screen with a refusal (END): only when a replayed walk meets one before its last input."""

    text: str


Outcome = Ask | Show | Run | Refuse


class Step(Enum):
    """An input that keeps the session going: it moved somewhere, or it was not a choice."""

    MOVED = "moved"
    INVALID = "invalid"


@dataclass(frozen=True, slots=True)
class Notice:
    """An input that keeps the session where it was, with a line to say why (a refused entry of a list)."""

    text: str


@dataclass
class _Walk:
    tree: Tree
    items: Items
    stack: list[Frame] = field(default_factory=list)

    @property
    def top(self) -> Frame:
        return self.stack[-1]

    def enter(self, node_id: str, picked: Item | None, entry: str) -> Outcome | Step | Notice:
        node = self.tree.nodes[node_id]
        if isinstance(node, View):
            return Show(node.view, picked)
        self.stack.append(Frame(node_id, 0, picked, (*self.top.path, entry)))
        return Step.MOVED

    def step(self, entry: str) -> Outcome | Step | Notice:
        """Where one input leads: a step within the session, or an outcome that ends it."""
        if entry == HOME:
            self.stack[:] = [Frame(self.tree.root)]
            return Step.MOVED
        if entry == BACK:
            if len(self.stack) > 1:
                self.stack.pop()
            return Step.MOVED
        node = self.tree.nodes[self.top.node]
        if isinstance(node, Menu):
            return self._menu(node, entry)
        if isinstance(node, Pick):
            return self._pick(node, entry)
        if isinstance(node, Confirm):
            return self._run(node) if entry == "1" else Step.INVALID
        return Step.INVALID

    def _run(self, node: Confirm) -> Run:
        under = self.stack[-2] if len(self.stack) > 1 else None
        source = self.tree.nodes[under.node] if under is not None else None
        if under is None or not isinstance(source, Pick):
            return Run(node.action, self.top.picked)
        return Run(node.action, self.top.picked, under.path, source.source)

    def _menu(self, node: Menu, entry: str) -> Outcome | Step | Notice:
        index = _number(entry, len(node.choices))
        if index is None:
            return Step.INVALID
        return self.enter(node.choices[index].target, self.top.picked, entry)

    def _pick(self, node: Pick, entry: str) -> Outcome | Step | Notice:
        pages = paginate(node.title, self.items(node.source))
        page = pages[self.top.page]
        if entry == NEXT and self.top.page + 1 < len(pages):
            self.stack.append(Frame(self.top.node, self.top.page + 1, self.top.picked, (*self.top.path, entry)))
            return Step.MOVED
        index = _number(entry, len(page))
        if index is None:
            return Step.INVALID
        item = page[index]
        if item.refusal:
            return Notice(item.refusal)
        return self.enter(node.target, item, entry)


def _number(entry: str, count: int) -> int | None:
    """The 0-based index of a choice "1".."count", or None."""
    if not entry.isdigit() or entry.startswith("0"):
        return None
    value = int(entry)
    return value - 1 if 1 <= value <= count else None


def walk(tree: Tree, inputs: Sequence[str], items: Items, replay: bool = False, notice: str | None = None) -> Outcome:
    """Where `inputs` lead from the root. Inputs after a final screen are ignored, and a confirmation met before
    the last input is never run (`LOST`): only a refused one lets a session go on, and its caller walks on
    from the list instead.

    `replay`: the session's lists are read again (its state expired), so an entry refused now may have been
    open when the subscriber typed the inputs after it: the walk ends at that refusal rather than give those
    inputs a meaning they did not have.
    `notice`: a line for the top of the screen the inputs lead to (a refusal the caller met there)."""
    state = _Walk(tree, items, [Frame(tree.root)])
    line: str | None = None  # what the last input has to say on top of the screen
    for number, entry in enumerate(inputs, 1):
        result = state.step(entry.strip())
        if isinstance(result, Notice):
            if replay and number < len(inputs):
                return Refuse(result.text)
            line = result.text
        elif isinstance(result, Step):
            line = INVALID if result is Step.INVALID else None
        elif isinstance(result, Run) and number < len(inputs):
            return Refuse(LOST)
        else:
            return result
    return Ask(screen(tree, state, notice if notice is not None else line))


# Screens ------------------------------------------------------------------------------------


@lru_cache(maxsize=4096)
def width(text: str) -> int:
    """Septets the text takes once written in GSM 03.38, as the gateway sends it. Kept for texts already
    measured: a list's title, labels and refusals are measured again at every screen that walks through it."""
    return septets(to_gsm(text))


def screen(tree: Tree, state: _Walk, notice: str | None) -> str:
    """The prompt of the current node; a notice (invalid input, a refusal) comes first, in place of a list's
    title."""
    frame = state.top
    node = tree.nodes[frame.node]
    if isinstance(node, Menu):
        lines = [node.title, *(f"{n} {c.label}" for n, c in enumerate(node.choices, 1))]
        lines += [] if frame.node == tree.root else [NAV_BACK]
    elif isinstance(node, Pick):
        pages = paginate(node.title, state.items(node.source))
        lines = _page_lines(pages, frame.page)
        lines = lines if notice is not None else [node.title, *lines]
    elif isinstance(node, Confirm):
        name = frame.picked.name if frame.picked else ""
        lines = [node.prompt.format(name=name), "1 Confirmer", NAV_BACK]
    else:  # a View is never a frame: entering it ends the walk
        raise TypeError(f"no prompt for {node!r}")
    return "\n".join(lines if notice is None else [_cut_notice(notice, lines), *lines])


def _cut_notice(notice: str, lines: list[str]) -> str:
    """The notice, cut only if it would push the choices off the screen (pages leave room for any refusal of
    their own items: this is for a notice longer than a screen)."""
    room = SCREEN_SEPTETS - width("".join("\n" + line for line in lines))
    return notice if width(notice) <= room else clip(to_gsm(notice), max(room, 3))


def _page_lines(pages: list[list[Item]], number: int) -> list[str]:
    lines = [f"{n} {item.label}" for n, item in enumerate(pages[number], 1)]
    if number + 1 < len(pages):
        lines.append(NAV_NEXT)
    lines.append(NAV_BACK)
    if number > 0:
        lines.append(NAV_HOME)
    return lines


def paginate(title: str, items: Sequence[Item], budget: int = SCREEN_SEPTETS) -> list[list[Item]]:
    """Items cut into pages, each of which fits a screen whichever line heads it: the title, "Choix invalide."
    or the refusal of one of its items (shown above the page it was picked from). One page when the items all
    fit with "0 Retour" alone; else every page leaves room for "9 Suite", "0 Retour" and "00 Accueil"."""
    base = max(width(title), width(INVALID))

    def fits(page: Sequence[Item], navigation: list[str]) -> bool:
        head = max([base, *(width(item.refusal) for item in page if item.refusal)])
        lines = [*(f"{n} {item.label}" for n, item in enumerate(page, 1)), *navigation]
        return head + width("".join("\n" + line for line in lines)) <= budget

    if len(items) <= MAX_PER_PAGE and fits(items, [NAV_BACK]):
        return [list(items)]
    pages: list[list[Item]] = [[]]
    for item in items:
        candidate = [*pages[-1], item]
        if pages[-1] and (len(candidate) > MAX_PER_PAGE or not fits(candidate, [NAV_NEXT, NAV_BACK, NAV_HOME])):
            pages.append([item])
        else:
            pages[-1] = candidate
    return pages
