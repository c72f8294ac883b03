"""Body validation: identifiers, scopes and Auth0-style messages."""

from __future__ import annotations

import pytest

from scopegate.authserver.errors import ManagementApiError
from scopegate.authserver.http.schemas import (
    ClientGrantCreate,
    ResourceServerCreate,
    ResourceServerUpdate,
    parse_body,
)


@pytest.mark.parametrize(
    "identifier",
    [
        "https://my-api-urn",
        "https://api.example.com/v1/",
        "urn:my-api",
        "urn:example:api%20one",
        "http://127.0.0.1:8787/api/v2/",
        "https://example.com/api?version=2",
    ],
)
def test_absolute_uris_are_identifiers(identifier: str) -> None:
    assert parse_body(ResourceServerCreate, {"identifier": identifier}).identifier == identifier


@pytest.mark.parametrize(
    "identifier",
    [
        "",
        "my-api",
        "/relative/path",
        "https://",
        "https://a b",
        "https://api#fragment",
        "https://api/%zz",
        "1http://x",
        "https://caf\u00e9.example",
        "https://x/\n",
        "urn:" + "x" * 600,
    ],
)
def test_other_strings_are_not(identifier: str) -> None:
    with pytest.raises(ManagementApiError) as caught:
        parse_body(ResourceServerCreate, {"identifier": identifier})
    assert caught.value.status_code == 400
    assert caught.value.error_code == "invalid_body"
    assert caught.value.message.endswith("on property identifier.")


def test_update_refuses_the_identifier() -> None:
    with pytest.raises(ManagementApiError) as caught:
        parse_body(ResourceServerUpdate, {"identifier": "urn:x"})
    assert caught.value.message == (
        "Payload validation error: 'Additional properties not allowed: identifier'."
    )


def test_messages_never_echo_values() -> None:
    secret = "not-a-valid-secret-because-it-has spaces-in-it"
    with pytest.raises(ManagementApiError) as caught:
        parse_body(ResourceServerCreate, {"identifier": "urn:x", "signing_secret": secret})
    assert secret not in caught.value.message


@pytest.mark.parametrize("name", ["\ud800", "k" * 300], ids=["surrogate", "long"])
def test_odd_property_names_give_short_utf8_messages(name: str) -> None:
    with pytest.raises(ManagementApiError) as caught:
        parse_body(ClientGrantCreate, {name: 1})
    caught.value.message.encode("utf-8")
    assert len(caught.value.message) < 250
