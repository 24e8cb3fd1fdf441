"""Secret scanning: the labelled corpus (nothing leaks under redact or block), allowlist pragmas,
stable placeholders and unredaction, concurrent scans, no raw secret in logs."""

from __future__ import annotations

import logging
import threading

import pytest

from marie.governance.secrets import Scanner, unredact
from tests.governance.secret_corpus import GENERATORS, NEGATIVES, samples

SAMPLES = samples()


@pytest.fixture(scope="module")
def scanner() -> Scanner:
    return Scanner(b"s" * 32)


def test_the_corpus_is_big_enough():
    assert len(SAMPLES) >= 150
    assert len({kind for kind, _, _ in SAMPLES}) >= 25
    assert any("\n" in secret for kind, secret, _ in SAMPLES if kind == "private_key")
    assert sum(1 for _, _, text in SAMPLES if " = (\n    \"" in text) >= 20   # split across lines


def _leaks(secret: str, text: str) -> list[str]:
    """Pieces of the secret (the whole, or either half of a split one) still in ``text``."""
    pieces = [secret] if "\n" in secret else [secret, secret[: len(secret) // 2], secret[len(secret) // 2:]]
    return [p for p in pieces if len(p) >= 8 and p in text]


@pytest.mark.parametrize("index", range(len(SAMPLES)), ids=[f"{k}-{i}" for i, (k, _, _) in enumerate(SAMPLES)])
def test_no_sample_leaks_under_redaction(scanner, index):
    kind, secret, text = SAMPLES[index]
    red = scanner.redact(text)
    assert red.findings, f"{kind}: nothing found in {text!r}"
    assert not _leaks(secret, red.text), f"{kind}: leaked in {red.text!r}"
    assert "[REDACTED:" in red.text
    assert unredact(red.text, red.mapping) == text


def test_kinds_are_named_for_what_they_are(scanner):
    named = {"aws_access_key_id", "github_token", "jwt", "private_key", "slack_token", "stripe_key",
             "connection_string", "gcp_api_key", "anthropic_key", "openai_key"}
    hits = {kind: set() for kind in named}
    for kind, _, text in SAMPLES:
        if kind in named and " = (\n" not in text:
            hits[kind] |= {f.kind for f in scanner.scan(text)}
    for kind in named:
        assert kind in hits[kind], (kind, hits[kind])


@pytest.mark.parametrize("text", NEGATIVES)
def test_near_misses_are_not_secrets(scanner, text):
    assert scanner.scan(text) == []


def test_allowlist_pragma_is_honoured(scanner):
    key = GENERATORS["aws_access_key_id"]()
    assert scanner.scan(f'key = "{key}"  # pragma: allowlist secret\n') == []
    assert scanner.scan(f'# pragma: allowlist nextline secret\nkey = "{key}"\n') == []
    assert scanner.scan(f'# pragma: allowlist nextline secret\nother = 1\nkey = "{key}"\n')


def test_placeholders_are_stable_and_salted(scanner):
    key = GENERATORS["github_token"]()
    one = scanner.redact(f"a = '{key}'").text
    two = scanner.redact(f"b = '{key}' and again {key}").text
    token = one.split("'")[1]
    assert token.startswith("[REDACTED:github_token:") and two.count(token) == 2
    assert Scanner(b"t" * 32).placeholder("github_token", key) != token   # another installation, another hash


def test_unredact_leaves_unknown_placeholders(scanner):
    assert unredact("x [REDACTED:jwt:deadbeef] y", {}) == "x [REDACTED:jwt:deadbeef] y"


def test_concurrent_scans_agree(scanner):
    texts = [t for _, _, t in SAMPLES[:40]]
    expected = [[(f.kind, f.start, f.end) for f in scanner.scan(t)] for t in texts]
    results: list[list] = [None] * 8   # type: ignore[list-item]

    def work(slot: int) -> None:
        results[slot] = [[(f.kind, f.start, f.end) for f in scanner.scan(t)] for t in texts]

    threads = [threading.Thread(target=work, args=(i,)) for i in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert all(r == expected for r in results)


def test_findings_never_show_the_secret(scanner, caplog):
    key = GENERATORS["stripe_key"]()
    findings = scanner.scan(f"STRIPE = '{key}'")
    with caplog.at_level(logging.DEBUG):
        logging.getLogger("marie.test").warning("found %s / %r", findings, findings)
    assert key not in caplog.text and "stripe_key" in caplog.text


def test_no_false_positive_in_marieide_itself(scanner):
    """MarieIDE's own sources hold no secret; any finding there is a false positive."""
    from pathlib import Path

    root = Path(__file__).resolve().parents[2] / "marie"
    hits = []
    for path in sorted(root.rglob("*")):
        if path.suffix in (".py", ".toml", ".md", ".json") and path.is_file():
            found = scanner.scan(path.read_text(encoding="utf-8", errors="replace"))
            hits += [f"{path.relative_to(root)}:{f.line} {f.kind}" for f in found]
    assert hits == []
