"""A command's path (in its Idempotency-Key's fingerprint and stored answer) is what `request.url` says."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st
from starlette.requests import Request

from bascule.channels.rest.commands import path_and_query

# What a server hands the application: no control character (the HTTP parser refuses them), no fragment.
PATHS = st.text(alphabet=st.characters(codec="utf-8", exclude_categories=["Cs", "Cc"]), max_size=40).map(
    lambda s: "/" + s
)
QUERIES = st.text(alphabet=st.characters(min_codepoint=0x21, max_codepoint=0x7E, exclude_characters="#"), max_size=30)


def _scope(path: str, query: bytes) -> dict[str, object]:
    headers = [(b"host", b"api.example:8443")]
    return {"type": "http", "method": "POST", "path": path, "query_string": query, "headers": headers}


@given(PATHS, QUERIES)
def test_the_path_and_query_are_the_urls(path, query):
    request = Request(_scope(path, query.encode()))
    expected = request.url.path + (f"?{request.url.query}" if request.url.query else "")
    assert path_and_query(request.scope) == expected


def test_an_msisdn_in_the_path_and_a_query_keep_their_spelling():
    scope = _scope("/api/v1/subscribers/+2250700000001/profile-migrations", b"dry_run=1")
    assert path_and_query(scope) == "/api/v1/subscribers/+2250700000001/profile-migrations?dry_run=1"
