"""featurespring.analysis.docblocks: only the generated block of a document changes."""

import pytest

from featurespring.analysis import docblocks

B, E = "<!-- begin -->", "<!-- end -->"


def test_replaces_only_between_the_markers_and_is_idempotent():
  text = f"plan\n{B}\nold\n{E}\ntail\n"
  new = docblocks.replace_block(text, "\nnew\n\n", B, E)
  assert new == f"plan\n{B}\nnew\n{E}\ntail\n"
  assert docblocks.replace_block(new, "again", B, E) == docblocks.replace_block(text, "again", B, E)


def test_missing_or_disordered_markers():
  for text in ("plan only", f"{E}\n{B}\n", f"{B}\nno end\n"):
    with pytest.raises(ValueError, match="not found in order"):
      docblocks.replace_block(text, "x", B, E)
  appended = docblocks.replace_block("plan", "x", B, E, append_if_missing=True)
  assert appended == f"plan\n\n{B}\nx\n{E}\n"
  # A begin marker without its end is an error even when appending is allowed.
  with pytest.raises(ValueError):
    docblocks.replace_block(f"{B}\nno end\n", "x", B, E, append_if_missing=True)


def test_write_block_rewrites_the_file(tmp_path):
  doc = tmp_path / "doc.md"
  doc.write_text(f"# Title\n{B}\n{E}\n", encoding="utf-8")
  docblocks.write_block(str(doc), "| a |", B, E)
  assert doc.read_text(encoding="utf-8") == f"# Title\n{B}\n| a |\n{E}\n"
  assert [p.name for p in tmp_path.iterdir()] == ["doc.md"]  # no temporary left behind


def test_write_blocks_is_all_or_nothing(tmp_path):
  doc = tmp_path / "doc.md"
  b2, e2 = "<!-- BEGIN two -->", "<!-- END two -->"
  doc.write_text(f"# Title\n{B}\n{E}\nprose\n{b2}\nold\n{e2}\n", encoding="utf-8")
  docblocks.write_blocks(str(doc), [("one", B, E), ("two", b2, e2)])
  assert doc.read_text(encoding="utf-8") == f"# Title\n{B}\none\n{E}\nprose\n{b2}\ntwo\n{e2}\n"
  before = doc.read_text(encoding="utf-8")
  with pytest.raises(ValueError, match="not found"):
    docblocks.write_blocks(str(doc), [("new", B, E), ("x", "<!-- BEGIN 3 -->", "<!-- END 3 -->")])
  assert doc.read_text(encoding="utf-8") == before  # the first block was not written alone
