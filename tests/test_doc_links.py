"""Every relative link and image in the committed Markdown points at a committed file.

A figure a report writes but git ignores reads fine in the working tree and is
missing from every clone (on 2026-12-07 a ``results/`` pattern meant for the
main job's output had kept two of the reproduction report's figures out of
git, one of them shown in its README).
"""

import os
import re
import shutil
import subprocess
import urllib.parse

import pytest

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
# [text](target) and ![alt](target), the target up to a space (a title) or ")".
LINK = re.compile(r"!?\[[^\]]*\]\(\s*<?([^)\s>]+)>?(?:\s+\"[^\"]*\")?\s*\)")
# Fenced blocks, and code spans, which may wrap over a line but not a paragraph.
CODE = re.compile(r"```.*?```|`(?:[^`\n]|\n(?![ \t]*\n))+`", re.S)


def _tracked():
  if shutil.which("git") is None or not os.path.isdir(os.path.join(REPO, ".git")):
    pytest.skip("not a git checkout: what is committed is known to git only")
  out = subprocess.run(
      ["git", "ls-files", "-z"], cwd=REPO, capture_output=True, text=True, check=True
  )
  return set(filter(None, out.stdout.split("\0")))


def _targets(text):
  for match in LINK.finditer(CODE.sub("", text)):
    target = match.group(1)
    if re.match(r"^[a-z][a-z0-9+.-]*:", target, re.I) or target.startswith("#"):
      continue  # a URL, a mail address or an anchor in the same page
    yield urllib.parse.unquote(target.split("#", 1)[0])


def test_relative_links_of_the_docs_point_at_committed_files():
  tracked = _tracked()
  folders = set()
  for path in tracked:
    while path := os.path.dirname(path):
      folders.add(path)
  checked, missing = 0, []
  for doc in sorted(p for p in tracked if p.endswith(".md")):
    with open(os.path.join(REPO, doc), encoding="utf-8") as f:
      text = f.read()
    for target in _targets(text):
      path = os.path.normpath(os.path.join(os.path.dirname(doc), target))
      if path.startswith(".."):
        continue  # outside the repository (../shared), not this repository's to commit
      checked += 1
      if path not in tracked and path not in folders:
        missing.append(f"{doc}: {target}")
  assert checked > 50, f"only {checked} relative links found: is the link pattern still right?"
  assert not missing, "links to files that are not committed:\n" + "\n".join(missing)
