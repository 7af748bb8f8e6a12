"""The entry points end to end: launch.sweep (incl. array tasks + merge) and launch.plot."""

import os
import subprocess
import sys

import numpy as np

from featurespring import sweep

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
SPRINGS = ("--config=experiments/fig3_springs.py:runlocal", "--config.springs.num_steps=200")


def _run(argv, cwd=REPO, check=False):
  return subprocess.run(
      argv,
      cwd=cwd,
      check=check,
      capture_output=True,
      text=True,
      timeout=300,
      env=dict(os.environ, JAX_PLATFORMS="cpu"),
  )


def launch(module, *args, check=True):
  return _run([sys.executable, "-m", module, *args], check=check)


def test_help_lists_every_flag():
  # absl prints the help and exits with status 1.
  text = launch("launch.sweep", "--help", check=False).stdout
  for flag in (
      "--config:",
      "--workdir:",
      "--task_index:",
      "--num_tasks:",
      "--[no]merge_only:",
      "--[no]multihost:",
      "--merge:",
  ):
    assert flag in text, flag
  text = launch("launch.plot", "--help", check=False).stdout
  for flag in ("--workdir:", "--outdir:", "--beside:", "--x:", "--y:"):
    assert flag in text, flag


def test_array_job_then_merge_then_plot(tmp_path):
  workdir = str(tmp_path / "run")
  for task in ("0", "1"):
    result = launch(
        "launch.sweep",
        *SPRINGS,
        "--config.chunk_size=2",
        f"--workdir={workdir}",
        f"--task_index={task}",
        "--num_tasks=2",
    )
    assert "chunk" in result.stderr  # progress lines
  assert not os.path.exists(os.path.join(workdir, "results.npz"))
  launch("launch.sweep", f"--workdir={workdir}", "--merge_only")
  arrays, sidecar = sweep.load_result(workdir)
  assert arrays["curvature"].shape == (2, 2, 1)
  assert sidecar["num_chunks"] == 2
  # The same sweep as one job gives the same numbers.
  single = str(tmp_path / "single")
  launch("launch.sweep", *SPRINGS, "--config.chunk_size=2", f"--workdir={single}")
  np.testing.assert_array_equal(sweep.load_result(single)[0]["load_curve"], arrays["load_curve"])
  # A different config in the same workdir is refused with a clear message.
  refused = launch(
      "launch.sweep", *SPRINGS, "--config.springs.k=2.0", f"--workdir={workdir}", check=False
  )
  assert refused.returncode != 0 and "different config" in refused.stderr
  launch("launch.plot", f"--workdir={workdir}")
  for name in ("phase_diagram", "load_curves"):
    for ext in ("png", "pdf"):
      assert os.path.getsize(os.path.join(workdir, "figures", f"{name}.{ext}")) > 1000


def _error_line(result):
  """The one error line of a failed launch, checked to be alone on stderr."""
  assert result.returncode == 2, result.stderr
  lines = [l for l in result.stderr.splitlines() if "launch.sweep: error:" in l]
  assert len(lines) == 1, result.stderr
  assert "Traceback" not in result.stderr, result.stderr
  return lines[0]


def test_config_mistakes_end_in_one_line_naming_the_config_path(tmp_path):
  workdir = f"--workdir={tmp_path / 'w'}"
  typo = _error_line(launch("launch.sweep", *SPRINGS, workdir, "--config.sedes=3", check=False))
  assert "config.sedes is not a field" in typo and "did you mean config.seeds?" in typo
  nested = _error_line(
      launch("launch.sweep", *SPRINGS, workdir, "--config.springs.nosie=0.1", check=False)
  )
  assert "did you mean config.springs.noise?" in nested
  bad_value = _error_line(
      launch("launch.sweep", *SPRINGS, workdir, "--config.springs.noise_dist=foo", check=False)
  )
  assert "noise_dist must be one of" in bad_value
  not_a_field = _error_line(
      launch("launch.sweep", *SPRINGS, workdir, "--config.grid.dropout=(0.0,0.1)", check=False)
  )
  assert "config.grid sweeps 'dropout', which is not a field of config.springs" in not_a_field
  assert not os.path.exists(tmp_path / "w"), "a refused config must write nothing"


def test_a_new_grid_axis_from_the_command_line_is_swept(tmp_path):
  workdir = str(tmp_path / "w")
  launch("launch.sweep", *SPRINGS, f"--workdir={workdir}", "--config.grid.k=(1.0,2.0)")
  arrays, sidecar = sweep.load_result(workdir)
  assert sidecar["grid_names"] == ["k", "mu", "noise", "seed"]
  np.testing.assert_array_equal(arrays["axis/k"], [1.0, 2.0])
  assert arrays["curvature"].shape == (2, 2, 2, 1)


def test_dry_run_plans_warns_of_idle_tasks_and_writes_nothing(tmp_path):
  workdir = tmp_path / "w"
  result = launch(
      "launch.sweep",
      *SPRINGS,
      f"--workdir={workdir}",
      "--dry_run",
      "--num_tasks=3",
      "--config.chunk_size=2",
  )
  out = result.stdout
  assert "grid: mu[2] x noise[2] x seed[1] = 4 chains" in out
  assert "chunks: 2" in out and "task 2/3: 0 chunk(s)" in out
  assert "WARNING: 1 of 3 tasks would sit idle" in out
  assert "measured:" in out and "compile" in out and "estimate:" in out
  assert "memory: about" in out and "per device for the largest chunk (2 members" in out
  assert not workdir.exists()


def test_console_scripts_and_shipped_config_names_work_from_another_directory(tmp_path):
  scripts = os.path.dirname(sys.executable)
  for name in ("featurespring-sweep", "featurespring-plot", "featurespring-main"):
    result = _run([os.path.join(scripts, name), "--help"], tmp_path)
    assert "--workdir" in result.stdout, (name, result.stderr[-500:])
  assert "--workdir" in _run([sys.executable, "-m", "launch.sweep", "--help"], tmp_path).stdout
  workdir = tmp_path / "fig3"
  result = _run(
      [
          os.path.join(scripts, "featurespring-sweep"),
          "--config=fig3_springs:runlocal",
          "--config.springs.num_steps=200",
          f"--workdir={workdir}",
      ],
      tmp_path,
  )
  assert result.returncode == 0, result.stderr[-2000:]
  assert sweep.load(str(workdir)).curvature.shape == (2, 2, 1)
  result = _run([os.path.join(scripts, "featurespring-plot"), f"--workdir={workdir}"], tmp_path)
  assert result.returncode == 0 and (workdir / "figures" / "phase_diagram.png").exists()


def test_config_file_mistakes_end_in_one_line(tmp_path):
  workdir = f"--workdir={tmp_path / 'w'}"
  missing = _error_line(
      launch("launch.sweep", "--config=experiments/nope.py", workdir, check=False)
  )
  assert "no config file at experiments/nope.py" in missing
  misspelt = _error_line(launch("launch.sweep", "--config=fig1c_dropuot", workdir, check=False))
  assert "did you mean fig1c_dropout?" in misspelt
  bad_arg = _error_line(
      launch("launch.sweep", "--config=fig1c_dropout:runlcoal", workdir, check=False)
  )
  assert "unknown config argument 'runlcoal'" in bad_arg
  no_seeds = tmp_path / "no_seeds.py"
  no_seeds.write_text(
      "from featurespring import sweep\n\n\ndef get_config():\n"
      "  config = sweep.base_config('springs')\n  del config['seeds']\n  return config\n"
  )
  lacking = _error_line(launch("launch.sweep", f"--config={no_seeds}", workdir, check=False))
  assert "config.seeds is missing" in lacking
  bucket = _error_line(launch("launch.sweep", *SPRINGS, "--workdir=gs://b/runs", check=False))
  assert "--workdir gs://b/runs: only local or mounted POSIX paths" in bucket
  assert not os.path.exists(tmp_path / "w")


def test_a_missing_dataset_names_the_flags_that_fix_it(tmp_path):
  result = launch(
      "launch.sweep",
      "--config=fig1a_label_noise",
      f"--workdir={tmp_path / 'w'}",
      f"--config.dnn.data_dir={tmp_path}",
      "--dry_run",
      check=False,
  )
  line = _error_line(result)
  assert "--config.dnn.data_dir" in line and "--config.dnn.source='tfds'" in line


def test_an_unmerged_or_damaged_workdir_ends_in_one_line(tmp_path):
  plot = launch("launch.plot", f"--workdir={tmp_path}", check=False)
  assert plot.returncode == 2 and "Traceback" not in plot.stderr, plot.stderr
  assert "launch.plot: error:" in plot.stderr and "--merge_only" in plot.stderr
  for text in ("{}", "[]"):
    (tmp_path / "sweep.json").write_text(text)
    line = _error_line(launch("launch.sweep", f"--workdir={tmp_path}", "--merge_only", check=False))
    assert "not a sweep manifest" in line
    line = _error_line(launch("launch.sweep", *SPRINGS, f"--workdir={tmp_path}", check=False))
    assert "not a sweep manifest" in line
