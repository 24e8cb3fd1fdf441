"""Every real service has each member its Protocol (``marie.services``) names, with the same
parameters, and the App hands out objects that satisfy them. (The mypy run checks the types.)"""

from __future__ import annotations

import importlib
import inspect

import pytest

from marie.services import PROTOCOLS, Services


def _members(protocol: type) -> dict[str, object]:
    names = set()
    for klass in protocol.__mro__:
        if klass is object or klass.__name__ in ("Protocol", "Generic"):
            continue
        names |= {n for n in vars(klass) if not n.startswith("_")}
        names |= set(getattr(klass, "__annotations__", {}))
    return {n: getattr(protocol, n, None) for n in sorted(names)}


def _params(fn: object) -> list[inspect.Parameter]:
    signature = inspect.signature(fn)  # type: ignore[arg-type]
    return [p for p in signature.parameters.values() if p.name != "self" and p.kind is not p.VAR_KEYWORD]


def _compatible(declared: object, actual: object) -> bool:
    """The real method accepts every call the Protocol allows: the same parameters in the same order
    and kinds; anything more must have a default."""
    want, have = _params(declared), _params(actual)
    if [(p.name, p.kind) for p in have[:len(want)]] != [(p.name, p.kind) for p in want]:
        return False
    return all(p.default is not p.empty or p.kind is p.VAR_POSITIONAL for p in have[len(want):])


@pytest.mark.parametrize("name", sorted(PROTOCOLS))
def test_real_service_has_every_protocol_member(name):
    protocol, where = PROTOCOLS[name]
    module, _, cls_name = where.partition(":")
    real = getattr(importlib.import_module(module), cls_name)
    missing, different = [], []
    for member, declared in _members(protocol).items():
        actual = getattr(real, member, None)
        if actual is None and member not in getattr(real, "__annotations__", {}):
            # an attribute set in __init__ (``self.last_status = ...``) is found in the source
            if f"self.{member}" not in inspect.getsource(real):
                missing.append(member)
            continue
        if callable(declared) and callable(actual) and not isinstance(actual, property):
            if not _compatible(declared, actual):
                different.append(f"{member}: protocol {inspect.signature(declared)} != real {inspect.signature(actual)}")
    assert not missing and not different, f"{where}: missing {missing}; different: {different}"


def test_app_satisfies_the_services_protocol(app):
    for member in _members(Services):
        assert hasattr(type(app), member) or hasattr(app, member), member
    assert app.writes.root == app.root and app.fileops.root == app.root


def test_the_check_can_fail():
    class Half:
        def snapshot(self):
            return None

    from marie.services import IndexApi
    assert "find" in _members(IndexApi) and not hasattr(Half, "find")

    def declared(self, path: str, staged: bool = False) -> None: ...
    def fewer(self, path: str) -> None: ...
    def more(self, path: str, staged: bool = False, *, timeout: float = 1.0) -> None: ...
    def required_more(self, path: str, staged: bool = False, extra: int = 0, *, must: int) -> None: ...
    assert _compatible(declared, more) and not _compatible(declared, fewer)
    assert not _compatible(declared, required_more)
