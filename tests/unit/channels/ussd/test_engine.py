"""The menu engine on a small tree of its own: moves, back, home, invalid input, pagination."""

import pytest

from bascule.channels.ussd import screens
from bascule.channels.ussd.engine import (
    LOST,
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
    width,
)
from bascule.channels.ussd.menu import TREE, entry_inputs, user_inputs
from bascule.kernel.gsm0338 import fits, to_gsm

TOY = Tree(
    root="home",
    nodes={
        "home": Menu("Accueil", (Choice("Fruits", "fruits"), Choice("Aide", "help"))),
        "fruits": Pick("Vos fruits :", source="fruits", target="confirm"),
        "confirm": Confirm("Prendre {name} ?", action="take"),
        "help": View("help"),
    },
)

FRUITS = [
    Item("pomme", "Pomme", "Pomme"),
    Item("durian", "Durian (interdit)", "Durian", refusal="Le durian est interdit à bord."),
]


def items(source):
    assert source == "fruits"
    return FRUITS


def test_the_root_menu_and_a_final_view():
    assert walk(TOY, [], items) == Ask("Accueil\n1 Fruits\n2 Aide")
    assert walk(TOY, ["2"], items) == Show("help", None)


def test_a_picked_item_is_confirmed_then_run():
    assert walk(TOY, ["1"], items) == Ask("Vos fruits :\n1 Pomme\n2 Durian (interdit)\n0 Retour")
    assert walk(TOY, ["1", "1"], items) == Ask("Prendre Pomme ?\n1 Confirmer\n0 Retour")
    assert walk(TOY, ["1", "1", "1"], items) == Run("take", FRUITS[0], back=("1",), source="fruits")


def test_a_run_says_the_way_back_to_its_list_in_the_fewest_inputs():
    assert walk(TOY, ["7", "1", "x", "1", "0", "1", "1"], items) == Run("take", FRUITS[0], ("1",), "fruits")
    assert walk(TOY, ["1", "1", "00", "1", "1", "1"], items) == Run("take", FRUITS[0], ("1",), "fruits")


def test_a_paged_list_is_reached_again_through_its_pages():
    fruits = many(30)
    run = walk(TOY, ["1", "9", "9", "1", "1"], lambda source: fruits)
    assert isinstance(run, Run)
    assert run.back == ("1", "9", "9")
    assert walk(TOY, run.back, lambda source: fruits) == walk(TOY, ["1", "9", "9"], lambda source: fruits)


def test_a_notice_from_the_caller_heads_the_screen_the_inputs_reach():
    assert walk(TOY, ["1"], items, notice="Plus possible.") == Ask(
        "Plus possible.\n1 Pomme\n2 Durian (interdit)\n0 Retour"
    )


def test_a_confirmation_before_the_last_input_is_never_run():
    """Only a refused confirmation lets a session go on; once its state is lost, the walk cannot tell what the
    inputs after it answered."""
    assert walk(TOY, ["1", "1", "1", "2"], items) == Refuse(LOST)
    assert walk(TOY, ["1", "1", "1", "2", "1"], items, replay=True) == Refuse(LOST)


def test_a_refused_item_brings_the_list_back_with_its_reason_in_place_of_the_title():
    again = Ask("Le durian est interdit à bord.\n1 Pomme\n2 Durian (interdit)\n0 Retour")
    assert walk(TOY, ["1", "2"], items) == again
    assert walk(TOY, ["1", "2", "2"], items) == again
    assert walk(TOY, ["1", "2", "1"], items) == Ask("Prendre Pomme ?\n1 Confirmer\n0 Retour")
    assert walk(TOY, ["1", "2", "x"], items) == Ask("Choix invalide.\n1 Pomme\n2 Durian (interdit)\n0 Retour")
    assert walk(TOY, ["1", "2", "0"], items) == walk(TOY, [], items)


def test_a_replayed_walk_ends_at_a_refusal_met_before_its_last_input():
    """The session expired and its lists were read again: what followed the refused entry was typed on
    other screens."""
    assert walk(TOY, ["1", "2", "1", "1"], items, replay=True) == Refuse("Le durian est interdit à bord.")
    assert walk(TOY, ["1", "2"], items, replay=True) == walk(TOY, ["1", "2"], items)
    assert walk(TOY, ["1", "1", "1"], items, replay=True) == Run("take", FRUITS[0], ("1",), "fruits")


@pytest.mark.parametrize("entry", ["3", "x", "", "01", "-1", "12"])
def test_an_invalid_input_re_prompts_the_same_screen(entry):
    assert walk(TOY, ["1", entry], items) == Ask("Choix invalide.\n1 Pomme\n2 Durian (interdit)\n0 Retour")
    assert walk(TOY, [entry], items) == Ask("Choix invalide.\nAccueil\n1 Fruits\n2 Aide")


def test_only_the_last_input_decides_whether_the_prompt_says_invalid():
    assert walk(TOY, ["1", "7", "0"], items) == walk(TOY, [], items)


def test_back_and_home():
    assert walk(TOY, ["1", "1", "0"], items) == walk(TOY, ["1"], items)
    assert walk(TOY, ["1", "1", "00"], items) == walk(TOY, [], items)
    assert walk(TOY, ["0"], items) == walk(TOY, [], items)


def test_inputs_after_the_end_are_ignored():
    assert walk(TOY, ["2", "1", "1"], items) == Show("help", None)


def many(count, label="Profil au nom assez long", refusal=None):
    return [Item(f"p{n}", f"{label} {n}", f"P{n}", refusal if n % 5 == 0 else None) for n in range(1, count + 1)]


LONG_REFUSAL = "Profil réservé : il faut 8 000 F CFA consommés le mois passé, ou 10 € réglés d'avance [promo]."


@pytest.mark.parametrize("refusal", [None, LONG_REFUSAL, "Non."])
def test_a_long_list_is_paged_and_every_page_fits_whichever_line_heads_it(refusal):
    long = many(20, refusal=refusal)
    tree = Tree("list", {"list": Pick("Choisissez :", source="long", target="end"), "end": View("end")})
    pages = paginate("Choisissez :", long)
    assert len(pages) > 2
    assert [item for page in pages for item in page] == long
    inputs: list[str] = []
    for number, page in enumerate(pages):
        shown = walk(tree, inputs, lambda _: long)
        invalid = walk(tree, [*inputs, "x"], lambda _: long)
        refused = [walk(tree, [*inputs, str(n)], lambda _: long) for n, item in enumerate(page, 1) if item.refusal]
        for outcome in (shown, invalid, *refused):
            assert isinstance(outcome, Ask)
            assert fits(to_gsm(outcome.text)), outcome.text
            assert outcome.text.splitlines()[1] == f"1 {page[0].label}"
        assert [outcome.text.splitlines()[0] for outcome in refused] == [refusal] * len(refused)
        assert isinstance(shown, Ask)
        assert ("9 Suite" in shown.text) == (number + 1 < len(pages))
        inputs.append("9")
    index, item = next((n, item) for n, item in enumerate(pages[2], 1) if not item.refusal)
    assert walk(tree, ["9", "9", str(index)], lambda _: long) == Show("end", item)
    assert walk(tree, ["9", "0"], lambda _: long) == walk(tree, [], lambda _: long)


def test_a_refusal_takes_room_only_on_its_own_page():
    long = many(20, refusal=LONG_REFUSAL)
    pages = paginate("Choisissez :", long)
    assert [len(page) for page in pages] == [4, 1, 4, 1, 4, 1, 4, 1]
    assert [item.key for item in pages[1]] == ["p5"]
    assert [len(page) for page in paginate("Choisissez :", many(20))] == [4, 4, 4, 4, 4]


def test_a_refusal_longer_than_a_screen_is_cut_and_the_choices_stay():
    tree = Tree("list", {"list": Pick("Choisissez :", source="x", target="end"), "end": View("end")})
    endless = [Item("a", "Alpha", "Alpha", refusal="Refusé : " + "raison " * 40), Item("b", "Bêta", "Bêta")]
    outcome = walk(tree, ["1"], lambda _: endless)
    assert isinstance(outcome, Ask)
    assert fits(to_gsm(outcome.text))
    assert outcome.text.startswith("Refusé : raison raison")
    assert outcome.text.endswith("...\n1 Alpha\n9 Suite\n0 Retour")  # alone on its page, then cut


def test_a_list_that_fits_with_0_retour_alone_is_one_page():
    """Four entries under "Choix invalide." fill 182 septets with "0 Retour", not with "9 Suite" and "00 Accueil"."""
    labels = ["a" * 38, "b" * 38, "c" * 38, "d" * 32]
    items = [Item(label, label, label) for label in labels]
    title = "Choisissez :"
    lines = ["Choix invalide.", *(f"{n} {x}" for n, x in enumerate(labels, 1)), "0 Retour"]
    assert width("\n".join(lines)) == 182
    assert paginate(title, items) == [items]
    assert len(paginate(title, [*items[:3], Item("e", "e" * 33, "e")])) == 2


def test_a_page_holds_at_most_eight_entries():
    short = [Item(str(n), str(n), str(n)) for n in range(20)]
    assert [len(page) for page in paginate("T", short)] == [8, 8, 4]


def test_width_counts_the_screen_as_the_gateway_sends_it():
    assert width("Réessayez") == 9
    assert width("être") == 4  # "etre"
    assert width("10 €") == 5
    assert width("« Tigre »") == 9


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
            assert fits(to_gsm("Choix invalide.\n" + line)), line


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
    [
        ("#121#", []),
        ("*121#", []),
        ("#121*1#", ["1"]),
        ("*121*1#", ["1"]),
        ("*121*1*2#", ["1", "2"]),
        ("#122#", None),
        ("121", None),
        ("#121**1#", None),
        ("", None),
    ],
)
def test_the_dialled_code_may_carry_the_first_inputs(code, expected):
    assert entry_inputs(code) == expected


def test_the_gateway_text_is_the_inputs_joined_by_stars():
    assert user_inputs("") == []
    assert user_inputs("1*2*00") == ["1", "2", "00"]
    assert user_inputs("1*") == ["1", ""]
