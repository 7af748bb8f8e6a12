"""Generated blocks inside hand-written documents.

A report script owns the text between two marker lines of a markdown
document and rewrites only that; everything outside the markers (the plan,
the prose around the numbers) is kept byte for byte.
"""

from __future__ import annotations

import os
import tempfile


def replace_block(text: str, block: str, begin: str, end: str, append_if_missing=False) -> str:
  """``text`` with the lines between ``begin`` and ``end`` replaced by ``block``.

  Args:
    text: the document.
    block: the new generated text (surrounding newlines are normalised).
    begin, end: the marker lines.
    append_if_missing: without the markers, append them with the block
      after a blank line (else a ValueError).

  Raises:
    ValueError: markers missing (unless appended) or out of order; the
      hand-written text is never overwritten.
  """
  start = text.find(begin)
  stop = text.find(end, start) if start >= 0 else -1
  if start < 0 and end not in text and append_if_missing:
    prefix = (text if text.endswith("\n") else text + "\n") + "\n"
    return f"{prefix}{begin}\n{block.strip(chr(10))}\n{end}\n"
  if start < 0 or stop < 0:
    raise ValueError(f"markers {begin!r} ... {end!r} not found in order: fix the document by hand")
  return text[: start + len(begin)] + "\n" + block.strip("\n") + "\n" + text[stop:]


def write_block(path: str, block: str, begin: str, end: str, append_if_missing=False) -> None:
  """Rewrites the generated block of the document at ``path``, atomically."""
  write_blocks(path, [(block, begin, end)], append_if_missing)


def write_blocks(path: str, blocks, append_if_missing=False) -> None:
  """Rewrites several generated blocks of the document at ``path`` in one atomic write.

  Args:
    path: the document.
    blocks: ``(block, begin, end)`` triples, as for :func:`replace_block`.
    append_if_missing: as for :func:`replace_block`, per block.

  Raises:
    ValueError: as :func:`replace_block`; then the file is left untouched.
  """
  with open(path, encoding="utf-8") as f:
    text = f.read()
  for block, begin, end in blocks:
    text = replace_block(text, block, begin, end, append_if_missing)
  directory = os.path.dirname(os.path.abspath(path))
  with tempfile.NamedTemporaryFile("w", encoding="utf-8", dir=directory, delete=False) as f:
    f.write(text)
  os.replace(f.name, path)
