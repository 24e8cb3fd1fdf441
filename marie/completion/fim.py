"""Fill-in-the-middle (FIM) token families, found in a model's GGUF vocabulary.

A code model trained for FIM has three special tokens (prefix, suffix, middle) whose spelling depends
on its family. We look for each family's tokens as entries of ``tokenizer.ggml.tokens`` in the GGUF
header: every string in a GGUF array is stored as ``<u64 length><utf-8 bytes>``, so a token is
present when that exact length-prefixed byte string occurs in the header (a ``bytes.find`` in C: a
262k-token vocabulary is scanned in milliseconds, where the ``gguf`` package's reader needs ~25 s:
it builds a numpy view per string).

Models without FIM tokens (the default Gemma 3 270M) get plain prefix completion. Pure Python, any
thread; results are cached per file version.
"""

from __future__ import annotations

import struct
import threading
from dataclasses import dataclass
from pathlib import Path

from marie.ai.gguf import GGUFError, read_info_cached


@dataclass(frozen=True)
class FimFormat:
    """How one family spells a FIM prompt. ``order`` is "psm" (prefix, suffix, middle) or "spm"."""

    family: str
    prefix: str
    suffix: str
    middle: str
    stops: tuple[str, ...] = ()
    order: str = "psm"
    # CodeLlama puts a space after <PRE> and before <MID> (Meta's reference prompt).
    spaced: bool = False

    def build(self, prefix: str, suffix: str) -> str:
        """The prompt text (tokenized with special tokens on, so each marker becomes its token)."""
        if self.spaced:
            return f"{self.prefix} {prefix} {self.suffix}{suffix} {self.middle}"
        if self.order == "spm":
            return f"{self.suffix}{suffix}{self.prefix}{prefix}{self.middle}"
        return f"{self.prefix}{prefix}{self.suffix}{suffix}{self.middle}"


# The families we know, most specific first. Each entry lists the vocabulary spellings of
# (prefix, suffix, middle); the first spelling found is the one used in the prompt.
_FAMILIES: tuple[tuple[str, tuple[tuple[str, str, str], ...], tuple[str, ...], str, bool], ...] = (
    # Qwen2.5-Coder, CodeGemma, Granite code: <|fim_prefix|> <|fim_suffix|> <|fim_middle|>
    ("qwen", (("<|fim_prefix|>", "<|fim_suffix|>", "<|fim_middle|>"),),
     ("<|endoftext|>", "<|fim_pad|>", "<|file_sep|>", "<|repo_name|>", "<|fim_prefix|>"), "psm", False),
    # StarCoder / StarCoder2 / SantaCoder
    ("starcoder", (("<fim_prefix>", "<fim_suffix>", "<fim_middle>"), ("<fim-prefix>", "<fim-suffix>", "<fim-middle>")),
     ("<|endoftext|>", "<file_sep>", "<fim_pad>", "<fim_prefix>"), "psm", False),
    # DeepSeek-Coder
    ("deepseek", (("<｜fim▁begin｜>", "<｜fim▁hole｜>", "<｜fim▁end｜>"),),
     ("<｜end▁of▁sentence｜>", "<|EOT|>"), "psm", False),
    # CodeLlama (SentencePiece spells them with a leading ▁)
    ("codellama", (("▁<PRE>", "▁<SUF>", "▁<MID>"), ("<PRE>", "<SUF>", "<MID>")),
     ("▁<EOT>", "<EOT>", "</s>"), "psm", True),
    # Codestral / Mistral: suffix first
    ("mistral", (("[PREFIX]", "[SUFFIX]", "[MIDDLE]"),), ("</s>",), "spm", False),
)

# How much of a file's start holds the vocabulary at most (the header precedes the tensors).
_HEADER_LIMIT = 48 << 20

_cache: dict[tuple[str, int, int], "FimFormat | None"] = {}
_lock = threading.Lock()


def _entry(token: str) -> bytes:
    data = token.encode("utf-8")
    return struct.pack("<Q", len(data)) + data


def detect_in_header(header: bytes) -> FimFormat | None:
    """The FIM format whose tokens appear as vocabulary entries in ``header`` (a GGUF file's first
    bytes), or None."""
    for family, spellings, stops, order, spaced in _FAMILIES:
        for pre, suf, mid in spellings:
            if all(_entry(t) in header for t in (pre, suf, mid)):
                present = tuple(s for s in stops if _entry(s) in header)
                return FimFormat(family, pre, suf, mid, present, order, spaced)
    # A header may mark FIM ids (tokenizer.ggml.fim_pre_token_id) with spellings we do not know:
    # llama.cpp's server can still use them by id (``/infill``), but a text prompt cannot name them.
    return None


def detect(path: Path | str) -> FimFormat | None:
    """The FIM format of the GGUF model at ``path`` (None: no FIM, use plain prefix completion).
    Raises ``GGUFError``/``OSError`` for a file that is not a readable GGUF. Any thread."""
    path = Path(path)
    st = path.stat()
    key = (str(path), st.st_size, st.st_mtime_ns)
    with _lock:
        if key in _cache:
            return _cache[key]
    read_info_cached(path)   # validates the file (magic, version, truncation) first
    with path.open("rb") as f:
        header = f.read(min(st.st_size, _HEADER_LIMIT))
    found = detect_in_header(header)
    with _lock:
        _cache[key] = found
    return found


def detect_quietly(path: Path | str | None) -> FimFormat | None:
    """``detect`` that answers None for a missing or unreadable file (the caller falls back to prefix)."""
    if path is None:
        return None
    try:
        return detect(path)
    except (GGUFError, OSError):
        return None
