"""The menu engine on a small tree of its own: moves, back, home, invalid input, pagination."""

import pytest

from bascule.channels.ussd import screens
from bascule.channels.ussd.engine import (
    Ask,
    Choice,
    Confirm,
    Item,
    Menu,
    Pick,
    Refuse,
    Run,
    Show,
    Tree,
    View,
    paginate,
    walk,
)
from bascule.channels.ussd.gsm7 import fits
from bascule.channels.ussd.menu import TREE, entry_inputs, user_inputs

TOY = Tree(
    root="home",
    nodes={
        "home": Menu("Accueil", (Choice("Fruits", "fruits"), Choice("Aide", "help"))),
        "fruits": Pick("Vos fruits:", source="fruits", target="confirm"),
        "confirm": Confirm("Prendre {name}?", action="take"),
        "help": View("help"),
    },
)

FRUITS = [Item("pomme", "Pomme", "Pomme"), Item("durian", "Durian (interdit)", "Durian", refusal="Interdit ici.")]


def items(source):
    assert source == "fruits"
    return FRUITS


def test_the_root_menu_and_a_final_view():
    assert walk(TOY, [], items) == Ask("Accueil\n1 Fruits\n2 Aide")
    assert walk(TOY, ["2"], items) == Show("help", None)


def test_a_picked_item_is_confirmed_then_run():
    assert walk(TOY, ["1"], items) == Ask("Vos fruits:\n1 Pomme\n2 Durian (interdit)\n0 Retour")
    assert walk(TOY, ["1", "1"], items) == Ask("Prendre Pomme?\n1 Confirmer\n0 Retour")
    assert walk(TOY, ["1", "1", "1"], items) == Run("take", FRUITS[0])


def test_a_refused_item_ends_with_its_reason():
    assert walk(TOY, ["1", "2"], items) == Refuse("Interdit ici.")


@pytest.mark.parametrize("entry", ["3", "x", "", "01", "-1", "12"])
def test_an_invalid_input_re_prompts_the_same_screen(entry):
    assert walk(TOY, ["1", entry], items) == Ask("Choix invalide.\nVos fruits:\n1 Pomme\n2 Durian (interdit)\n0 Retour")


def test_only_the_last_input_decides_whether_the_prompt_says_invalid():
    assert walk(TOY, ["1", "7", "0"], items) == walk(TOY, [], items)


def test_back_and_home():
    assert walk(TOY, ["1", "1", "0"], items) == walk(TOY, ["1"], items)
    assert walk(TOY, ["1", "1", "00"], items) == walk(TOY, [], items)
    assert walk(TOY, ["0"], items) == walk(TOY, [], items)


def test_inputs_after_the_end_are_ignored():
    assert walk(TOY, ["2", "1", "1"], items) == Show("help", None)


def many(count, label="Profil au nom assez long"):
    return [Item(f"p{n}", f"{label} {n}", f"P{n}") for n in range(1, count + 1)]


def test_a_long_list_is_paged_and_every_page_fits_even_with_the_invalid_prefix():
    long = many(20)
    tree = Tree("list", {"list": Pick("Choisissez:", source="long", target="end"), "end": View("end")})
    pages = paginate("Choisissez:", long)
    assert len(pages) > 2
    assert [item for page in pages for item in page] == long
    inputs: list[str] = []
    for number, page in enumerate(pages):
        shown = walk(tree, inputs, lambda _: long)
        invalid = walk(tree, [*inputs, "x"], lambda _: long)
        for outcome in (shown, invalid):
            assert isinstance(outcome, Ask)
            assert fits(outcome.text), outcome.text
        assert isinstance(shown, Ask)
        assert ("9 Suite" in shown.text) == (number + 1 < len(pages))
        assert shown.text.splitlines()[1] == f"1 {page[0].label}"
        inputs.append("9")
    second = pages[1][1]
    assert walk(tree, ["9", "2"], lambda _: long) == Show("end", second)
    assert walk(tree, ["9", "0"], lambda _: long) == walk(tree, [], lambda _: long)


def test_a_page_holds_at_most_eight_entries():
    short = [Item(str(n), str(n), str(n)) for n in range(20)]
    assert [len(page) for page in paginate("T", short)] == [8, 8, 4]


def test_the_shipped_tree_is_whole_and_every_name_is_bound():
    TREE.check()
    for node in TREE.nodes.values():
        if isinstance(node, Pick):
            assert node.source in screens.SOURCES
        if isinstance(node, View):
            assert node.view in screens.VIEWS
        if isinstance(node, Confirm):
            assert node.action in screens.ACTIONS
        for line in _static_lines(node):
            assert fits("Choix invalide.\n" + line), line


def _static_lines(node):
    if isinstance(node, Menu):
        return [node.title, *(c.label for c in node.choices)]
    if isinstance(node, Pick):
        return [node.title]
    if isinstance(node, Confirm):
        return [node.prompt.format(name="X" * 20)]
    return []


@pytest.mark.parametrize(
    ("code", "expected"),
    [("#121#", []), ("*121#", []), ("#121*1#", ["1"]), ("*121*1#", ["1"]), ("*121*1*2#", ["1", "2"]),
     ("#122#", None), ("121", None), ("#121**1#", None), ("", None)],
)
def test_the_dialled_code_may_carry_the_first_inputs(code, expected):
    assert entry_inputs(code) == expected


def test_the_gateway_text_is_the_inputs_joined_by_stars():
    assert user_inputs("") == []
    assert user_inputs("1*2*00") == ["1", "2", "00"]
    assert user_inputs("1*") == ["1", ""]
