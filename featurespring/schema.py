"""One home per setting: config groups derived from the engines' dataclasses.

Every setting a sweep exposes is a field of a dataclass that the engine uses
itself (``springs.ChainConfig``, ``train.Config``, ``train.HParams``, ...),
with its default and its one-line doc in the class docstring's
``Attributes:`` section. The sweep configs (``config.springs``,
``config.dnn``), the ``--config.*`` overrides, the validation and the config
reference (``docs/config.md``) are derived from those fields here, so a new
field appears everywhere without another edit.
"""

from __future__ import annotations

import dataclasses
import inspect
import re
import textwrap
from collections.abc import Iterable, Mapping
from typing import Any

import ml_collections
from ml_collections import config_dict


@dataclasses.dataclass(frozen=True)
class Setting:
  """One config field: where it is defined, its default and its doc."""

  name: str
  default: Any
  doc: str
  owner: str
  field_type: type | None = None


def _section_docs(obj, header: str) -> dict[str, str]:
  """``{name: doc}`` from the ``header:`` section (``Attributes``, ``Args``) of
  ``obj``'s Google-style docstring, continuation lines joined."""
  doc = inspect.getdoc(obj) or ""
  match = re.search(rf"^{header}:\n(.*?)(?:\n\S|\Z)", doc, re.S | re.M)
  docs, name = {}, None
  for line in textwrap.dedent(match.group(1) if match else "").splitlines():
    entry = re.match(r"^(\w+)(?: \([^)]*\))?:\s*(.*)$", line)
    if entry:
      name, text = entry.groups()
      docs[name] = text
    elif name and line.strip():
      docs[name] += " " + line.strip()
  return {k: " ".join(v.split()) for k, v in docs.items()}


def _public_owner(owner: str) -> str:
  """``featurespring.data._load.load`` -> ``data.load`` (private modules left out)."""
  parts = [p for p in owner.split(".") if not p.startswith("_")]
  return ".".join(parts[1:] if parts[0] == "featurespring" else parts)


def dataclass_settings(
    cls, *, exclude: Iterable[str] = (), rename: Mapping[str, str] | None = None
) -> list[Setting]:
  """The fields of dataclass ``cls`` as settings (declaration order).

  Args:
    cls: a dataclass (flax struct dataclasses included) whose fields have
      defaults and whose docstring documents them under ``Attributes:``.
    exclude: fields that are not settings (derived from data, internal).
    rename: field name -> config name, where the config must differ.
  """
  rename = dict(rename or {})
  docs = _section_docs(cls, "Attributes")
  settings = []
  for field in dataclasses.fields(cls):
    if field.name in exclude:
      continue
    if field.default is not dataclasses.MISSING:
      default = field.default
    elif field.default_factory is not dataclasses.MISSING:
      default = field.default_factory()
    else:
      raise ValueError(f"{cls.__name__}.{field.name} has no default; a setting needs one")
    settings.append(
        Setting(
            rename.get(field.name, field.name),
            default,
            docs.get(field.name, ""),
            f"{cls.__module__}.{cls.__qualname__}",
            _declared_type(field.type, default),
        )
    )
  return settings


def signature_settings(
    function, *, include: Iterable[str], rename: Mapping[str, str] | None = None
) -> list[Setting]:
  """Keyword parameters of ``function`` as settings (docs from ``Args:``)."""
  rename = dict(rename or {})
  parameters = inspect.signature(function).parameters
  docs = _section_docs(function, "Args")
  settings = []
  for param in include:
    default = parameters[param].default
    if default is inspect.Parameter.empty:
      raise ValueError(f"{function.__qualname__}({param}) has no default; a setting needs one")
    settings.append(
        Setting(
            rename.get(param, param),
            default,
            docs.get(param, ""),
            f"{function.__module__}.{function.__qualname__}",
            _declared_type(parameters[param].annotation, default),
        )
    )
  return settings


def _declared_type(annotation, default) -> type | None:
  """The Python type a None default stands for (``Optional[int]`` -> int)."""
  if default is not None:
    return None
  text = annotation if isinstance(annotation, str) else getattr(annotation, "__name__", "")
  for name, kind in (("int", int), ("float", float), ("str", str), ("bool", bool)):
    if re.search(rf"\b{name}\b", str(text)):
      return kind
  if "Sequence" in str(text) or "tuple" in str(text):
    return tuple
  return None


def to_config(settings: Iterable[Setting]) -> ml_collections.ConfigDict:
  """A ConfigDict with one entry per setting, in order.

  A None default becomes a typed placeholder, so that ``--config.x=3``
  still parses to the field's type from the command line.
  """
  config = ml_collections.ConfigDict()
  seen = {}
  for setting in settings:
    if setting.name in seen:
      raise ValueError(
          f"setting {setting.name!r} is defined twice: in {seen[setting.name]} "
          f"and {setting.owner}"
      )
    seen[setting.name] = setting.owner
    if setting.default is None and setting.field_type is not None:
      config[setting.name] = config_dict.placeholder(setting.field_type)
    else:
      config[setting.name] = setting.default
  return config


def markdown_table(settings: Iterable[Setting]) -> str:
  """The settings as a markdown table: name, default, where defined, doc."""
  rows = ["| field | default | defined in | meaning |", "| --- | --- | --- | --- |"]
  for s in settings:
    default = repr(s.default).replace("|", "\\|")
    rows.append(
        f"| `{s.name}` | `{default}` | `{_public_owner(s.owner)}` | " f"{s.doc.replace('|', '/')} |"
    )
  return "\n".join(rows)
