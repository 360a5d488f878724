"""Rule sets shipped as package data, and reading a rule set from a file."""

from __future__ import annotations

import os
from functools import lru_cache
from importlib.resources import files
from pathlib import Path

from twinrail.compliance.domain.errors import InvalidRuleSet
from twinrail.compliance.domain.rules import RuleSet
from twinrail.compliance.domain.rules_schema import parse_rule_set

__all__ = ["DEFAULT_RULE_SET", "default_rule_set", "read_rule_set"]

DEFAULT_RULE_SET = "default.yaml"


@lru_cache(maxsize=1)
def default_rule_set() -> RuleSet:
    """The shipped default rule set (parsed once)."""
    text = files(__name__).joinpath(DEFAULT_RULE_SET).read_text(encoding="utf-8")
    return parse_rule_set(text, source=f"package:{DEFAULT_RULE_SET}")


def read_rule_set(path: str | os.PathLike[str]) -> RuleSet:
    """The rule set in the YAML file at `path`; InvalidRuleSet when it is unreadable or invalid."""
    try:
        text = Path(path).read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise InvalidRuleSet(
            "the rule file cannot be read", source=str(path), problems=[type(exc).__name__]
        ) from None
    return parse_rule_set(text, source=str(path))
