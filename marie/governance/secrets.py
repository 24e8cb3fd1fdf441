"""Secret scanning and redaction for everything the egress gate sends.

Detectors, in order of priority (an overlap keeps the higher one):
1. multi-line private keys (PEM, OpenSSH, PGP, PuTTY), also with ``\\n`` escapes inside JSON and
   without their END line (then up to the end of the key's base64 run);
2. high-value token formats (cloud keys, VCS/CI/SaaS tokens, JWTs, webhooks) - ours, with literal
   hints so a pattern runs only when its prefix occurs in the text;
3. detect-secrets' regex plugins (their ``denylist`` patterns, run over the whole text rather than
   line by line: per-line ``analyze_line`` made a 32 KB prompt cost ~50x more; its Public IP plugin is
   left out: an address is not a credential);
4. connection strings with a password, ``.env`` lines, keyword assignments (``password = "..."``)
   and high-entropy strings next to a credential word (our own: detect-secrets' keyword and entropy
   plugins are per-line and flag identifiers and hashes too often for a prompt gate).

Secrets split across lines (adjacent string literals, ``"AKIA" + \\n "..."``) are found by scanning the
literals joined. ``# pragma: allowlist secret`` on a line (``pragma: allowlist nextline secret`` on the
line before) exempts it. A finding's repr never shows the secret (it must never reach a log).

Redaction replaces each secret with ``[REDACTED:kind:hash8]``: hash8 is an HMAC of the secret with a
per-installation salt, so the same secret gets the same placeholder in every request (the model can
refer to it) but the provider cannot test guesses against it. ``unredact`` maps an answer back.
Scanners are immutable after construction: any thread, concurrently.
"""

from __future__ import annotations

import bisect
import hashlib
import hmac
import math
import os
import re
import secrets as _random
import threading
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any, Callable, Iterable

PLACEHOLDER = re.compile(r"\[REDACTED:([a-z0-9_]+):([0-9a-f]{8})\]")
ALLOW = "pragma: allowlist secret"
ALLOW_NEXT = "pragma: allowlist nextline secret"


@dataclass(frozen=True)
class Finding:
    """One secret: ``kind``, its span in the scanned text, 1-based line and column.

    ``secret`` is excluded from repr and comparison output so that logging a finding never logs it."""

    kind: str
    start: int
    end: int
    line: int
    column: int
    secret: str = field(repr=False, compare=False)

    @property
    def where(self) -> str:
        return f"line {self.line}, column {self.column}"


@dataclass(frozen=True)
class Redaction:
    text: str
    findings: list[Finding]
    mapping: dict[str, str] = field(repr=False)   # placeholder -> secret (kept on this machine)


class ScanError(RuntimeError):
    """The scanner could not scan (the gate then stays closed)."""


# -- detector table --------------------------------------------------------------------------------
@dataclass(frozen=True)
class Detector:
    kind: str
    regex: re.Pattern
    group: int | str = 0                 # the group holding the secret
    hints: tuple[str, ...] = ()          # lowercase literals, one of which must occur (empty: always run)
    check: Callable[[str, str, int], bool] | None = None   # (value, text, start) -> still a secret?
    priority: int = 2
    # The secret must not follow a word character. Checked in code rather than with a leading \b:
    # a pattern that starts with a literal lets re skip ahead with a fast search (~100x faster).
    boundary: bool = False


def _c(pattern: str, flags: int = 0) -> re.Pattern:
    return re.compile(pattern, flags)


_PLACEHOLDER_WORDS = ("example", "changeme", "change_me", "change-me", "placeholder", "your_", "your-",
                      "yourpass", "xxxx", "****", "....", "dummy", "sample", "redacted", "<", ">", "${", "{{",
                      "%(", "%s", "todo", "fixme", "secret_here", "your_key")
_NOT_SECRET_VALUES = {"none", "null", "true", "false", "nil", "undefined", "password", "secret", "token", "pass",
                      "passwd", "string", "str", "bytes", "required", "optional", "hidden", "test", "testing",
                      "default", "empty", "unset", "bearer", "basic", "value", "key"}
# Identifiers, dotted names and constants (words without digits glued on): "prompt_tokens",
# "access_token", "AUTH_HEADER", "passwordHash". A value with digits inside a word is not one.
_NUMBER = re.compile(r"^[-+]?\d+(?:\.\d+)?$")
_IDENT = re.compile(r"^(?:[a-z]+(?:[_\-.][a-z0-9]+)*|[A-Z]+(?:[_\-.][A-Z0-9]+)*|"
                    r"[a-z]+(?:[A-Z][a-z]+)+|[A-Z][a-z]+(?:[A-Z][a-z]+)*)$")
_NAME_NOT_SECRET = re.compile(r"(?i)(?:_?(?:url|uri|path|file|name|type|field|id|env|len|length|count|header|"
                              r"prefix|suffix|param|label|placeholder|pattern|regex|format|policy|mode|dir|"
                              r"version|endpoint|expiry|expires|ttl|limit|size|kind|key_name|usage|hash|"
                              r"schema|class|column|_at)s?|tokeniz\w*|tokens)$")


def _plausible_value(value: str) -> bool:
    """Not a placeholder, an identifier, a reference or an expression: then a literal may be a secret."""
    low = value.lower()
    if low in _NOT_SECRET_VALUES or len(set(value)) < 4:
        return False
    if any(w in low for w in _PLACEHOLDER_WORDS):
        return False
    if value.startswith(("$", "/", "./", "http://", "https://", "os.", "env.", "process.", "self.", "#")):
        return False
    if _NUMBER.match(value):   # constants and ports (UNAUTHORIZED=-32001), not credentials
        return False
    if _IDENT.match(value):
        return False
    return True


def _entropy(value: str) -> float:
    counts: dict[str, int] = {}
    for ch in value:
        counts[ch] = counts.get(ch, 0) + 1
    n = len(value)
    return -sum(c / n * math.log2(c / n) for c in counts.values())


_CREDENTIAL_WORDS = re.compile(r"(?i)key|secret|token|passw|pwd|auth|cred|private|signature|bearer|sig=")


def _keyword_check(value: str, text: str, start: int) -> bool:
    return _plausible_value(value)


def _entropy_check(value: str, text: str, start: int) -> bool:
    if _entropy(value) < 4.2 or not re.search(r"\d", value) or not re.search(r"[A-Za-z]", value):
        return False
    if re.fullmatch(r"[0-9a-fA-F]+", value):   # hex digests (commit ids, checksums) are everywhere in code
        return False
    line_start = text.rfind("\n", 0, start) + 1
    context = text[max(line_start, start - 60):start]
    return bool(_CREDENTIAL_WORDS.search(context))


_DB_SCHEMES = re.compile(r"(?i)(?:postgres(?:ql)?|mysql|mariadb|mongodb(?:\+srv)?|rediss?|amqps?|mssql|sqlserver|"
                         r"oracle|jdbc:[a-z]+|ftps?|sftp|smtps?|ldaps?|couchbase|neo4j|clickhouse|cockroachdb|"
                         r"snowflake|db2|[a-z]+\+[a-z0-9]+)$")


def _db_scheme(text: str, start: int) -> bool:
    at = text.rfind("://", max(0, start - 300), start)
    begin = at
    while begin > 0 and (text[begin - 1].isalnum() or text[begin - 1] in "+:._-"):
        begin -= 1
    return bool(_DB_SCHEMES.search(text[begin:at]))


def _ado_context(text: str, start: int) -> bool:
    line_start = text.rfind("\n", 0, start) + 1
    line = text[line_start:text.find("\n", start) if "\n" in text[start:] else len(text)].lower()
    return ";" in line and any(w in line for w in ("server=", "data source=", "host="))


def _env_check(value: str, text: str, start: int) -> bool:
    return _plausible_value(value)


_B64 = r"A-Za-z0-9+/"
_HIGH_VALUE: list[Detector] = [
    Detector("aws_access_key_id", _c(r"((?:AKIA|ASIA|ABIA|ACCA|A3T[A-Z0-9])[0-9A-Z]{16})\b"), 1,
             ("akia", "asia", "abia", "acca", "a3t")),
    Detector("aws_secret_access_key", _c(r"(?i)aws.{0,24}?(?:secret|key).{0,24}?[\"'=:\s]([A-Za-z0-9/+]{40})(?![A-Za-z0-9/+])"),
             1, ("aws",)),
    Detector("gcp_api_key", _c(r"(AIza[0-9A-Za-z_\-]{35})"), 1, ("aiza",)),
    Detector("gcp_oauth_secret", _c(r"(GOCSPX-[0-9A-Za-z_\-]{28})"), 1, ("gocspx-",)),
    Detector("azure_storage_key", _c(r"(?i)AccountKey=([A-Za-z0-9+/=]{86,88})"), 1, ("accountkey=",)),
    Detector("azure_sas_token", _c(r"[?&]sig=([A-Za-z0-9%+/=]{40,})"), 1, ("sig=",)),
    Detector("github_token", _c(r"((?:ghp|gho|ghu|ghs|ghr)_[A-Za-z0-9]{36,255}|github_pat_[A-Za-z0-9_]{60,255})"), 1,
             ("ghp_", "gho_", "ghu_", "ghs_", "ghr_", "github_pat_")),
    Detector("gitlab_token", _c(r"((?:glpat|gldt|glrt|glptt|glsoat)-[A-Za-z0-9_\-]{20,64})"), 1, ("gl",)),
    Detector("slack_token", _c(r"(xox[abposr]-[0-9A-Za-z\-]{10,})"), 1, ("xox",)),
    Detector("slack_webhook", _c(r"(https://hooks\.slack\.com/services/T[A-Za-z0-9_]+/B[A-Za-z0-9_]+/[A-Za-z0-9_]+)"), 1,
             ("hooks.slack.com",)),
    Detector("discord_webhook", _c(r"(https://(?:ptb\.|canary\.)?discord(?:app)?\.com/api/webhooks/\d+/[A-Za-z0-9_\-]{40,})"),
             1, ("discord",)),
    Detector("stripe_key", _c(r"((?:sk|rk)_(?:live|test)_[0-9A-Za-z]{24,99})"), 1, ("_live_", "_test_")),
    Detector("openai_key", _c(r"(sk-(?:proj-|svcacct-|admin-)?[A-Za-z0-9_\-]{20,}T3BlbkFJ[A-Za-z0-9_\-]{20,}|"
                              r"sk-(?:proj|svcacct|admin)-[A-Za-z0-9_\-]{40,200})"), 1, ("sk-",)),
    Detector("anthropic_key", _c(r"(sk-ant-(?:api|admin)\d\d-[A-Za-z0-9_\-]{80,120})"), 1, ("sk-ant-",)),
    Detector("huggingface_token", _c(r"(hf_[A-Za-z]{34,40})\b"), 1, ("hf_",)),
    Detector("npm_token", _c(r"(npm_[A-Za-z0-9]{36})\b"), 1, ("npm_",)),
    Detector("pypi_token", _c(r"(pypi-AgE[A-Za-z0-9_\-]{50,})"), 1, ("pypi-",)),
    Detector("sendgrid_key", _c(r"(SG\.[A-Za-z0-9_\-]{22}\.[A-Za-z0-9_\-]{43})"), 1, ("sg.",)),
    Detector("mailgun_key", _c(r"(key-[0-9a-f]{32})\b"), 1, ("key-",)),
    Detector("twilio_key", _c(r"((?:SK|AC)[0-9a-f]{32})\b"), 1, ("SK", "AC")),
    Detector("telegram_bot_token", _c(r"(\d{8,10}:AA[0-9A-Za-z_\-]{33})\b"), 1, (":aa",)),
    Detector("square_token", _c(r"(sq0(?:atp|csp)-[0-9A-Za-z_\-]{22,43}|EAAA[A-Za-z0-9_\-]{60})"), 1, ("sq0", "eaaa")),
    Detector("shopify_token", _c(r"(shp(?:at|ca|pa|ss)_[a-fA-F0-9]{32})\b"), 1, ("shp",)),
    Detector("digitalocean_token", _c(r"(do[opr]_v1_[a-f0-9]{64})\b"), 1, ("_v1_",)),
    Detector("databricks_token", _c(r"(dapi[a-f0-9]{32}(?:-\d)?)\b"), 1, ("dapi",)),
    Detector("vault_token", _c(r"(hv[sb]\.[A-Za-z0-9_\-]{24,})"), 1, ("hvs.", "hvb.")),
    Detector("doppler_token", _c(r"(dp\.(?:st|ct|sa|scim)\.[A-Za-z0-9_\-]{40,})"), 1, ("dp.",)),
    Detector("linear_key", _c(r"(lin_api_[A-Za-z0-9]{40})\b"), 1, ("lin_api_",)),
    Detector("age_secret_key", _c(r"(AGE-SECRET-KEY-1[0-9A-Z]{58})\b"), 1, ("age-secret-key",)),
    Detector("jwt", _c(r"(eyJ[A-Za-z0-9_\-]{8,}\.eyJ[A-Za-z0-9_\-]{8,}\.[A-Za-z0-9_\-]{8,})"), 1, ("eyj",)),
    Detector("bearer_token", _c(r"(?i)\bbearer\s+([A-Za-z0-9_\-.~+/]{24,}=*)"), 1, ("bearer",),
             lambda v, t, s: _plausible_value(v) and bool(re.search(r"\d", v))),
]

_HIGH_VALUE = [replace(d, boundary=True) for d in _HIGH_VALUE]

_CONNECTION = [
    # "scheme://user:password@host": starts with the literal "://" (fast); the scheme is judged after.
    Detector("connection_string", _c(r"://[^:/\s@\"'<>]+:([^@\s/\"'<>]{3,})@[A-Za-z0-9.\-\[]"), 1, ("://",),
             lambda v, t, s: _db_scheme(t, s) and (_plausible_value(v) or v.lower() in ("password", "pass", "secret"))),
    Detector("basic_auth_url", _c(r"://[^:/\s@\"'<>]+:([^@\s/\"'<>]{3,})@[A-Za-z0-9.\-\[]"), 1, ("://",),
             lambda v, t, s: not _db_scheme(t, s) and _plausible_value(v)),
    # ADO.NET / ODBC: "Server=...;Database=...;Password=...;"
    Detector("connection_string", _c(r"(?i)(?:password|pwd)\s*=\s*([^;\"'\s]{3,})"), 1,
             ("data source=", "server=", "host="), lambda v, t, s: _plausible_value(v) and _ado_context(t, s)),
]

# Keyword assignments (``password = "..."``, ``"api_key": "..."``): found by ``str.find`` of each
# keyword in the lowercased text, then one anchored match after it; a case-insensitive regex
# alternation scanning the whole text cost ~5 ms per 32 KB.
_KEYWORDS = ("password", "passwd", "passphrase", "pwd", "secret", "token", "apikey", "api_key", "api-key",
             "access_key", "accesskey", "auth_key", "private_key", "credential")
_KEYWORD_TAIL = _c(r"[A-Za-z0-9_\-]{0,30}([\"']?)\]?[ \t]{0,4}(:=|=>|=|:|,)[ \t]{0,4}\(?\s{0,8}[rbuf]?([\"'`])([^\"'`\s\\]{6,200})\3")
_NAME_CHARS = frozenset("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_-.")

_DOTENV = Detector(
    "dotenv",
    _c(r"(?m)^[ \t]*(?:export[ \t]+)?([A-Z][A-Z0-9_]*(?:KEY|SECRET|TOKEN|PASSWORD|PASSWD|PASS|PWD|CREDENTIALS?|AUTH|"
       r"DSN|PRIVATE)[A-Z0-9_]*)=([\"']?)([^\s\"'#]{6,})\2[ \t]*$"),
    3, ("KEY", "SECRET", "TOKEN", "PASS", "PWD", "CREDENTIAL", "AUTH", "DSN", "PRIVATE"), _env_check, priority=3)

_ENTROPY = Detector("high_entropy_string", _c(r"[\"'`]([A-Za-z0-9+/_\-]{24,256}={0,2})[\"'`]"), 1, (),
                    _entropy_check, priority=4)

_PEM_BEGIN = re.compile(r"-----BEGIN ((?:RSA |EC |DSA |OPENSSH |ENCRYPTED |SSH2 ENCRYPTED |PGP )?PRIVATE KEY(?: BLOCK)?)-----")
_PEM_BODY_LINE = re.compile(r"^[\s\"',:]*(?:[A-Za-z0-9+/=]{16,}|Proc-Type:.*|DEK-Info:.*|Comment:.*|Version:.*|)[\s\"',\\n]*$")
_PEM_BODY_CHARS = re.compile(r"[A-Za-z0-9+/=]{16,}")
_PUTTY = re.compile(r"PuTTY-User-Key-File-[23]:[^\n]*\n(?:[^\n]*\n){0,60}?Private-MAC: [0-9a-f]+")

# detect-secrets plugins whose denylist we run (class name -> lowercase hints); the others are
# replaced above (keyword, entropy, JWT, private key) or left out (public IPs).
_DS_PLUGINS = {
    "ArtifactoryDetector": ("AKC", "AP"), "AWSKeyDetector": ("akia", "asia", "abia", "acca", "a3t", "aws"),
    "AzureStorageKeyDetector": ("accountkey",), "BasicAuthDetector": ("://",), "CloudantDetector": ("cloudant",),
    "DiscordBotTokenDetector": ("M", "N", "O"), "GitHubTokenDetector": ("gh",), "GitLabTokenDetector": ("gl", "gr1348941"),
     "MailchimpDetector": ("-us",),
    "NpmDetector": ("_authtoken",), "OpenAIDetector": ("t3blbkfj",), "PypiTokenDetector": ("pypi-",),
    "SendGridDetector": ("sg.",), "SlackDetector": ("xox", "hooks.slack"), "SoftlayerDetector": ("softlayer",),
    "SquareOAuthDetector": ("sq0csp",), "StripeDetector": ("k_live_",), "TelegramBotTokenDetector": (":aa",),
    "TwilioKeyDetector": ("AC", "SK"),
}


def _slug(name: str) -> str:
    return re.sub(r"[^a-z0-9]+", "_", name.lower()).strip("_")


def detect_secrets_detectors() -> list[Detector]:
    """detect-secrets' regex plugins as detectors (kind = their secret type, slugged)."""
    from detect_secrets.core.plugins.util import get_mapping_from_secret_type_to_class

    out: list[Detector] = []
    cls: Any
    for secret_type, cls in get_mapping_from_secret_type_to_class().items():
        hints = _DS_PLUGINS.get(cls.__name__)
        if hints is None:
            continue
        for regex in getattr(cls, "denylist", ()) or ():
            if regex.pattern.startswith("(?:(?<=\\W)|(?<=^))"):
                continue   # a "<vendor> key = ..." keyword pattern: our keyword detector covers it
            group = 1 if regex.groups >= 1 else 0
            check = (lambda v, t, s: _plausible_value(v)) if cls.__name__ in ("BasicAuthDetector", "ArtifactoryDetector",
                                                                           "CloudantDetector", "SoftlayerDetector",
                                                                           "IbmCloudIamDetector", "IbmCosHmacDetector") else None
            out.append(Detector(_slug(secret_type), regex, group, hints, check, priority=2))
    return out


# -- the scanner --------------------------------------------------------------------------------------
_LITERAL = re.compile(r"\"([^\"\\\n]*)\"|'([^'\\\n]*)'")
_JOIN_GAP = re.compile(r"[ \t]*(?:\+|\\|\.\.|&)?[ \t]*(?:\\?\n[ \t]*(?:\+|&|\.\.)?[ \t]*)+|[ \t]*\+[ \t]*")


class Scanner:
    """Finds secrets in text. Build once (``default_scanner()``), share across threads."""

    def __init__(self, salt: bytes, *, use_detect_secrets: bool = True) -> None:
        self.salt = salt
        self.detectors: list[Detector] = [*_HIGH_VALUE, *_CONNECTION]
        if use_detect_secrets:
            self.detectors += detect_secrets_detectors()
        self.detectors += [_DOTENV, _ENTROPY]

    # -- scanning --------------------------------------------------------------------------------
    def scan(self, text: str) -> list[Finding]:
        """Every secret in ``text``, by position, non-overlapping. Raises ``ScanError``. Any thread."""
        try:
            return self._scan(text)
        except Exception as exc:   # a bug or a pathological input must close the gate, not open it
            raise ScanError(f"the secret scanner failed ({type(exc).__name__})") from exc

    def _scan(self, text: str) -> list[Finding]:
        if not isinstance(text, str):
            raise TypeError("text expected")
        lines = _LineIndex(text)
        raw: list[tuple[int, int, int, str, str]] = []   # (start, -(end), priority, kind, secret)
        self._private_keys(text, raw)
        self._run(text, text.lower(), 0, raw)
        self._split_literals(text, raw)
        raw.sort(key=lambda r: (r[2], r[0], r[1]))
        taken: list[tuple[int, int]] = []
        out: list[Finding] = []
        for start, neg_end, _priority, kind, secret in raw:
            end = -neg_end
            if any(start < e and s < end for s, e in taken):
                continue
            line = lines.line_of(start)
            if lines.allowed(line):
                continue
            taken.append((start, end))
            out.append(Finding(kind, start, end, line, start - lines.starts[line - 1] + 1, secret))
        # The same secret elsewhere (quoted again, in a comment, in an echo): redact every copy.
        values = {f.secret: f.kind for f in out if len(f.secret) >= 8}
        for value, kind in values.items():
            pos = text.find(value)
            while pos != -1:
                end = pos + len(value)
                if not any(pos < e and s < end for s, e in taken):
                    line = lines.line_of(pos)
                    if not lines.allowed(line):
                        taken.append((pos, end))
                        out.append(Finding(kind, pos, end, line, pos - lines.starts[line - 1] + 1, value))
                pos = text.find(value, end)
        out.sort(key=lambda f: f.start)
        return out

    def _run(self, text: str, low: str, offset: int, raw: list) -> None:
        # Each distinct hint is looked for once: an absent one costs a pass over the whole text,
        # and with ~50 detectors the repeated searches were most of a 32 KB scan.
        present: dict[str, bool] = {}

        def has(hint: str) -> bool:
            found = present.get(hint)
            if found is None:
                found = present[hint] = hint in (text if hint.isupper() else low)
            return found

        for det in self.detectors:
            if det.hints and not any(has(h) for h in det.hints):
                continue
            for match in det.regex.finditer(text):
                start, end = match.span(det.group)
                if start < 0 or end - start < 4:
                    continue
                if det.boundary and start > 0 and (text[start - 1].isalnum() or text[start - 1] == "_"):
                    continue
                value = match.group(det.group)
                if det.check is not None and not det.check(value, text, start):
                    continue
                raw.append((start + offset, -(end + offset), det.priority, det.kind, value))
        self._keywords(text, low, offset, raw)

    def _keywords(self, text: str, low: str, offset: int, raw: list) -> None:
        seen: set[int] = set()
        for keyword in _KEYWORDS:
            pos = low.find(keyword)
            while pos != -1:
                after = pos + len(keyword)
                match = _KEYWORD_TAIL.match(text, after)
                if match is not None:
                    begin = pos
                    while begin > 0 and text[begin - 1] in _NAME_CHARS and pos - begin < 30:
                        begin -= 1
                    name = text[begin:match.start(2)].rstrip("\"'] \t")
                    value = match.group(4)
                    start = match.start(4)
                    # ("password", "hunter2") pairs: only a whole quoted key, never a word  # pragma: allowlist secret
                    # inside a
                    # quoted path or pattern ("/etc/passwd", "*_API_KEY") followed by the next list item.
                    pair_ok = (match.group(2) != "," or (bool(match.group(1)) and begin > 0 and text[begin - 1] in "\"'"
                                                         and not any(c in value for c in "*/")))
                    if (start not in seen and pair_ok
                            and not _NAME_NOT_SECRET.search(name) and _plausible_value(value)):
                        seen.add(start)
                        raw.append((start + offset, -(match.end(4) + offset), 3, "password_assignment", value))
                pos = low.find(keyword, after)

    def _private_keys(self, text: str, raw: list) -> None:
        for match in _PEM_BEGIN.finditer(text):
            label = match.group(1)
            end_marker = f"-----END {label}-----"
            stop = text.find(end_marker, match.end())
            if stop != -1 and "-----BEGIN" not in text[match.end():stop]:
                end = stop + len(end_marker)
            else:   # no END line (cut off, or split oddly): up to the end of the base64 run
                end = match.end()
                pos = match.end()
                while pos < len(text):
                    nl = text.find("\n", pos)
                    line_end = len(text) if nl == -1 else nl
                    if not _PEM_BODY_LINE.match(text[pos:line_end]) and pos != match.end():
                        break
                    end = line_end
                    pos = line_end + 1
            body = text[match.end():end]
            if len(_PEM_BODY_CHARS.findall(body)) < 2:
                continue   # a bare header ("-----BEGIN PRIVATE KEY-----" in a test or a docstring): no key
            raw.append((match.start(), -end, 0, "private_key", text[match.start():end]))
        for match in _PUTTY.finditer(text):
            raw.append((match.start(), -match.end(), 0, "private_key", match.group(0)))

    def _split_literals(self, text: str, raw: list) -> None:
        """Secrets cut into adjacent string literals ("AKIA" "ABCD..." / "..." + "..." / across lines)."""
        literals = [(m.start(), m.end(), m.group(1) if m.group(1) is not None else m.group(2))
                    for m in _LITERAL.finditer(text)]
        i = 0
        while i < len(literals):
            j = i
            while j + 1 < len(literals) and _JOIN_GAP.fullmatch(text, literals[j][1], literals[j + 1][0]):
                j += 1
            if j > i:
                group = literals[i:j + 1]
                joined = "".join(part for _, _, part in group)
                if len(joined) >= 8:
                    found: list = []
                    # Quoted, so the entropy detector sees a literal, after the text before the first
                    # literal on its line (the "KEY = (" that makes a random string a credential).
                    first_start = group[0][0]
                    prefix = text[max(0, first_start - 60):first_start].replace("\n", " ")
                    quoted = prefix + '"' + joined + '"'
                    self._run(quoted, quoted.lower(), -(len(prefix) + 1), found)
                    for start, neg_end, priority, kind, value in found:
                        if start < 0:
                            continue   # in the prefix: the whole-text pass has it
                        # Map back: the literals the secret touches, quote to quote.
                        pos, first, last = 0, None, None
                        for s, e, part in group:
                            lo, hi = pos, pos + len(part)
                            if lo < -neg_end and start < hi:
                                first = s if first is None else first
                                last = e
                            pos = hi
                        if first is not None and last is not None:
                            raw.append((first, -last, priority, kind, value))
            i = j + 1

    # -- redaction -------------------------------------------------------------------------------
    def placeholder(self, kind: str, secret: str) -> str:
        digest = hmac.new(self.salt, secret.encode("utf-8", "surrogatepass"), hashlib.sha256).hexdigest()[:8]
        return f"[REDACTED:{kind}:{digest}]"

    def redact(self, text: str, findings: list[Finding] | None = None) -> Redaction:
        """``text`` with every secret replaced by its placeholder. Any thread."""
        findings = self.scan(text) if findings is None else findings
        if not findings:
            return Redaction(text, [], {})
        parts: list[str] = []
        mapping: dict[str, str] = {}
        pos = 0
        for f in findings:
            parts.append(text[pos:f.start])
            token = self.placeholder(f.kind, f.secret)
            mapping[token] = text[f.start:f.end]
            parts.append(token)
            pos = f.end
        parts.append(text[pos:])
        return Redaction("".join(parts), findings, mapping)


def unredact(text: str, mapping: dict[str, str]) -> str:
    """Put the secrets back into a model's answer (on this machine, before an edit is applied).

    Placeholders not in ``mapping`` (made up by the model, or from another request) stay as they are."""
    if not mapping or "[REDACTED:" not in text:
        return text
    return PLACEHOLDER.sub(lambda m: mapping.get(m.group(0), m.group(0)), text)


def describe(findings: Iterable[Finding], where: str = "") -> str:
    """"aws_access_key_id at line 3, column 9; ..." - what was found and where, never the value."""
    return "; ".join(f"{f.kind} at {where + ', ' if where else ''}{f.where}" for f in findings)


class _LineIndex:
    def __init__(self, text: str) -> None:
        self.text = text
        self.starts = [0]
        pos = text.find("\n")
        while pos != -1:
            self.starts.append(pos + 1)
            pos = text.find("\n", pos + 1)
        self._allowed: dict[int, bool] = {}
        self.any_allow = "allowlist" in text

    def line_of(self, offset: int) -> int:
        return bisect.bisect_right(self.starts, offset)

    def _line(self, number: int) -> str:
        start = self.starts[number - 1]
        end = self.starts[number] - 1 if number < len(self.starts) else len(self.text)
        return self.text[start:end]

    def allowed(self, number: int) -> bool:
        if not self.any_allow:
            return False
        cached = self._allowed.get(number)
        if cached is None:
            cached = ALLOW in self._line(number) or (number > 1 and ALLOW_NEXT in self._line(number - 1))
            self._allowed[number] = cached
        return cached


# -- the shared scanner ------------------------------------------------------------------------------
_default: Scanner | None = None
_default_lock = threading.Lock()


def installation_salt(folder: Path | None = None) -> bytes:
    """The per-installation HMAC salt for placeholders (created once, mode 0600)."""
    from marie.core import atomic, paths

    path = Path(folder or paths.data_dir()) / "governance" / "redaction.salt"
    try:
        data = path.read_bytes()
        if len(data) == 32:
            return data
    except FileNotFoundError:
        pass
    path.parent.mkdir(parents=True, exist_ok=True)
    data = _random.token_bytes(32)
    atomic.write_bytes(path, data, 0o600)
    os.chmod(path, 0o600)
    return data


def default_scanner() -> Scanner:
    """The process-wide scanner (built on first use: detect-secrets' plugins import in ~60 ms)."""
    global _default
    with _default_lock:
        if _default is None:
            _default = Scanner(installation_salt())
        return _default
