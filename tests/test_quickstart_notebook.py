"""docs/quickstart.ipynb runs top to bottom on a CPU, and is committed without outputs."""

import os

import pytest

nbformat = pytest.importorskip("nbformat", reason="the [test] extra installs nbformat")
nbclient = pytest.importorskip("nbclient", reason="the [test] extra installs nbclient")

DOCS = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "docs")
NOTEBOOK = os.path.join(DOCS, "quickstart.ipynb")


def test_the_committed_notebook_has_no_outputs():
  notebook = nbformat.read(NOTEBOOK, as_version=4)
  for cell in notebook.cells:
    if cell.cell_type == "code":
      assert not cell.outputs and cell.execution_count is None, cell.source[:80]


def test_the_quickstart_runs_without_an_error(monkeypatch):
  # The kernel inherits this process's environment, and importing `launch`
  # (as other test modules do) sets MPLBACKEND=Agg; the notebook must show its
  # figures whatever the caller's backend, which is what this checks.
  monkeypatch.setenv("MPLBACKEND", "Agg")
  # About 25 s on a quiet 2-core CPU (the README says so); the generous cell
  # timeout only guards against a hang on a loaded machine.
  notebook = nbformat.read(NOTEBOOK, as_version=4)
  client = nbclient.NotebookClient(
      notebook, timeout=600, kernel_name="python3", resources={"metadata": {"path": DOCS}}
  )
  client.execute()  # raises CellExecutionError, naming the cell, on any error
  outputs = [o for c in notebook.cells if c.cell_type == "code" for o in c.outputs]
  assert not [o for o in outputs if o.output_type == "error"]
  images = [o for o in outputs if "image/png" in o.get("data", {})]
  assert len(images) == 4  # the phase diagram, the nets, the fitted chain, the controller
