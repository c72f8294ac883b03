"""``scopegate inspect``: show what a token says and why the configured API accepts or rejects it.

The verdict is that of the real verifier built from the configured settings
(see :func:`scopegate.explain.explain`); the header and claims are shown as
decoded without verification. The signing secret is never printed.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import sys
from collections.abc import Mapping
from typing import Any

from scopegate._settings import Settings
from scopegate.explain import TIME_CLAIMS, Report, explain, format_time, relative_time

_BEARER = "bearer "


def clean_token(text: str) -> str:
    """The token in ``text``: surrounding whitespace and a leading ``Bearer`` removed."""
    text = text.strip()
    if text[: len(_BEARER)].lower() == _BEARER:
        text = text[len(_BEARER) :].strip()
    return text


def add_parser(subparsers: Any) -> None:
    """Register the ``inspect`` command."""
    parser: argparse.ArgumentParser = subparsers.add_parser(
        "inspect",
        help="decode a token and explain whether the configured API accepts it",
        description="Print a token's header and claims (decoded without verification, "
        "times also as UTC), then the verdict of a verifier built from the configured "
        "SCOPEGATE_* settings: VALID with the granted scopes, or INVALID with the rule the "
        "token broke (signature, audience, issuer, expiry, not-before, algorithm, exact JSON, "
        "claim types, cnf binding, the token profile, required claims and claim values), "
        "with the claim and the values involved. "
        "Exit status: 0 valid, 1 invalid, 2 usage or configuration error.",
    )
    parser.add_argument(
        "token",
        metavar="TOKEN",
        help='the access token, with or without "Bearer "; - reads it from standard input',
    )
    parser.add_argument(
        "--json", action="store_true", help="print a machine-readable JSON report instead"
    )
    parser.set_defaults(run=run)


def _read(argument: str) -> str:
    if argument != "-":
        return argument
    return sys.stdin.buffer.read().decode("utf-8", "replace")


def _value(value: Any) -> str:
    """A value safe to print on a terminal: plain when printable text, else JSON-escaped."""
    if isinstance(value, str) and value.isprintable():
        return value
    return json.dumps(value, ensure_ascii=True)


def _date_note(name: str, when: float, now: float) -> str:
    relative = relative_time(when, now)
    if name == "exp":
        note = f"expires {relative}" if when > now else f"expired {relative}"
    elif name == "iat":
        note = f"issued {relative}"
    else:
        note = f"valid from {relative}" if when > now else f"valid since {relative}"
    return f"{format_time(when)}, {note}"


def _section(title: str, values: Mapping[str, Any] | None, now: float) -> list[str]:
    if values is None:
        return [f"{title}: (unreadable)"]
    lines = [f"{title}:"]
    width = max((len(_value(name)) for name in values), default=0)
    for name, value in values.items():
        line = f"  {_value(name):<{width}}  {_value(value)}"
        if name in TIME_CLAIMS and isinstance(value, (int, float)) and not isinstance(value, bool):
            # Out of a datetime's range: no date to show, and the verdict says why.
            with contextlib.suppress(ValueError, OverflowError, OSError):
                line += f"  ({_date_note(name, float(value), now)})"
        lines.append(line)
    return lines


def _dash() -> str:
    """An em dash, or a hyphen where standard output cannot encode one."""
    try:
        "\u2014".encode(sys.stdout.encoding or "ascii")
    except (UnicodeEncodeError, LookupError):
        return "-"
    return "\u2014"


def _claim_rules(settings: Settings) -> list[str]:
    """The claim settings beyond the defaults, so a reader sees what the verdict applied."""
    rules = []
    if settings.token_profile != "default":  # noqa: S105 - a profile name
        rules.append(f"token profile {settings.token_profile}")
    if settings.required_claims:
        rules.append("required claims " + ", ".join(settings.required_claims))
    for name, accepted in settings.claim_values.items():
        rules.append(f"{name} one of {', '.join(map(repr, accepted))}")
    return ["Also required: " + "; ".join(rules)] if rules else []


def render(report: Report, settings: Settings) -> str:
    """The human-readable report: header, claims, what was checked, then the verdict."""
    verdict = f"{'VALID' if report.valid else 'INVALID'} {_dash()} {report.reason}"
    if report.header is None and report.claims is None:
        return verdict  # nothing readable to show: the verdict says why, on one line
    now = report.checked_at
    issuer = "any" if settings.issuer is None else repr(settings.issuer)
    lines = [
        *_section("Header", report.header, now),
        *_section("Claims (unverified)", report.claims, now),
        f"Checked against: audience {settings.identifier!r}, issuer {issuer}, "
        f"algorithms {', '.join(settings.algorithms)}, leeway {settings.leeway:g}s, "
        f"at {format_time(now)}",
        *_claim_rules(settings),
        verdict,
    ]
    return "\n".join(lines)


def run(args: argparse.Namespace) -> int:
    """Print the report; 0 when the token is valid, 1 when it is not."""
    token = clean_token(_read(args.token))
    if not token:
        source = "standard input" if args.token == "-" else "the TOKEN argument"  # noqa: S105
        print(f"scopegate: error: no token given ({source} is empty)", file=sys.stderr)
        return 2
    settings = Settings(_env_file=args.env_file)
    report = explain(token, settings)
    if args.json:
        print(json.dumps(report.to_dict(), indent=2, ensure_ascii=True))
    else:
        print(render(report, settings))
    return 0 if report.valid else 1
