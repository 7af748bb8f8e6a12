"""The batch-job templates in launch/ start as written, checked without SLURM or gcloud.

Fake ``sbatch``, ``srun``, ``gcloud`` and ``python`` executables placed first on
PATH record what the scripts would run; the TPU script's remote command is
evaluated by a local bash standing in for each worker's login shell.
"""

import glob
import json
import os
import re
import shutil
import socket
import stat
import subprocess
import sys
import time

import pytest

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
LAUNCH = os.path.join(REPO, "launch")
# Arguments the remote shell would mangle if quoted wrongly: parentheses and a
# comma, spaces, a quote, a $ and a glob.
TRICKY = ("--config.grid.noise=(0.0,0.1)", "--config.name=a b  c", "it's $HOME *")
TEMPLATE_VARIABLES = (
    "TPU_NAME",
    "ZONE",
    "PROJECT",
    "REPO_DIR",
    "CONFIG",
    "WORKDIR",
    "INSTALL",
    "PYTHON",
    "JAX_PLATFORMS",
)


def write_fake(path, record):
  """Writes an executable that appends its argv, cwd and environment to ``record``."""
  with open(path, "w") as f:
    f.write(f"""#!{sys.executable}
import json, os, sys
with open({record!r}, "a") as f:
  f.write(json.dumps({{"argv": sys.argv[1:], "cwd": os.getcwd(),
                      "logs_dir": os.path.isdir("logs"),
                      "env": dict(os.environ)}}) + "\\n")
""")
  os.chmod(path, os.stat(path).st_mode | stat.S_IXUSR)


def write_fake_sbatch(path, record):
  """A fake sbatch that records its call and prints job ids 123, 124, ..."""
  write_fake(path, record)
  with open(path, "a") as f:
    f.write(f"""
n = sum(1 for _ in open({record!r}))
job = 122 + n
if "--parsable" in sys.argv:
  print(f"{{job}};cluster" if n == 1 else job)  # both forms sbatch prints
else:
  print(f"Submitted batch job {{job}}")
""")


def calls(record):
  if not os.path.exists(record):
    return []
  with open(record) as f:
    return [json.loads(line) for line in f]


def run_script(script, *args, env, cwd, check=True):
  return subprocess.run(
      ["bash", script, *args],
      cwd=cwd,
      env=env,
      check=check,
      capture_output=True,
      text=True,
      timeout=60,
  )


def sbatch_options(script):
  with open(script) as f:
    return [
        line.split(None, 1)[1].split("#")[0].strip() for line in f if line.startswith("#SBATCH")
    ]


@pytest.fixture
def fakes(tmp_path):
  """A bin/ directory for fake executables, first on PATH, and a clean env."""
  bindir = tmp_path / "bin"
  bindir.mkdir()
  # Without the caller's settings of the variables the scripts read.
  env = {
      k: v
      for k, v in os.environ.items()
      if not k.startswith(("SBATCH_", "SLURM_")) and k not in TEMPLATE_VARIABLES
  }
  env["PATH"] = f"{bindir}{os.pathsep}{env['PATH']}"
  return bindir, env


@pytest.mark.parametrize(
    "script", sorted(glob.glob(os.path.join(LAUNCH, "*.sh"))), ids=os.path.basename
)
def test_every_template_parses(script):
  subprocess.run(["bash", "-n", script], check=True, capture_output=True, text=True)


def test_the_documented_templates_exist():
  names = {os.path.basename(p) for p in glob.glob(os.path.join(LAUNCH, "*.sh"))}
  assert {
      "slurm_submit.sh",
      "slurm_array.sh",
      "slurm_merge.sh",
      "slurm_multinode.sh",
      "tpu_vm.sh",
  } <= names
  import launch  # pylint: disable=import-outside-toplevel

  for name in names:
    assert f"launch/{name}" in launch.__doc__, name


# SLURM.


def test_slurm_submit_makes_logs_then_array_then_dependent_merge(tmp_path, fakes):
  bindir, env = fakes
  # A copy of launch/ is the repository root the wrapper finds from its own
  # path, so the test creates no logs/ in the real checkout.
  root = tmp_path / "repo"
  shutil.copytree(LAUNCH, root / "launch")
  record = str(tmp_path / "sbatch.jsonl")
  write_fake_sbatch(bindir / "sbatch", record)
  elsewhere = tmp_path / "elsewhere"
  elsewhere.mkdir()
  # An SBATCH_ GPU request in the caller's environment is meant for the array.
  env = dict(env, SBATCH_GRES="gpu:2", SBATCH_ARRAY_INX="0-3", SBATCH_PARTITION="p")

  result = run_script(
      str(root / "launch" / "slurm_submit.sh"),
      "--config=experiments/x.py",
      "--workdir=runs/x",
      *TRICKY,
      env=env,
      cwd=elsewhere,
  )

  array, merge = calls(record)
  for call in (array, merge):
    assert call["logs_dir"], "logs/ must exist before sbatch opens --output=logs/..."
    assert os.path.realpath(call["cwd"]) == os.path.realpath(root)  # SLURM_SUBMIT_DIR
  assert array["argv"] == [
      "--parsable",
      "launch/slurm_array.sh",
      "--config=experiments/x.py",
      "--workdir=runs/x",
      *TRICKY,
  ]
  assert array["env"]["SBATCH_GRES"] == "gpu:2"
  assert merge["argv"][-2:] == ["launch/slurm_merge.sh", "--workdir=runs/x"]
  assert "--dependency=afterok:123" in merge["argv"]
  # The merge is its own small job: no GPU from options or SBATCH_ variables,
  # no array range, but the partition still applies.
  assert not any(re.search("gpu|gres|array", a) for a in merge["argv"][:-2])
  assert not any(re.search("GPU|GRES|ARRAY", k) for k in merge["env"] if k.startswith("SBATCH_"))
  assert merge["env"]["SBATCH_PARTITION"] == "p"
  assert "123" in result.stdout and "124" in result.stdout


def test_slurm_submit_without_workdir_submits_nothing(tmp_path, fakes):
  bindir, env = fakes
  record = str(tmp_path / "sbatch.jsonl")
  write_fake_sbatch(bindir / "sbatch", record)
  root = tmp_path / "repo"
  shutil.copytree(LAUNCH, root / "launch")
  for args in (["--config=experiments/x.py"], ["--workdir=gs://bucket/runs/x"]):
    result = run_script(
        str(root / "launch" / "slurm_submit.sh"), *args, env=env, cwd=root, check=False
    )
    assert result.returncode != 0
  assert not calls(record)


def test_slurm_merge_job_is_small_and_gpu_free(tmp_path, fakes):
  options = sbatch_options(os.path.join(LAUNCH, "slurm_merge.sh"))
  assert "--cpus-per-task=1" in options
  assert not any(re.search("gpu|gres|array|nodes", o) for o in options), options
  time_limit = next(o for o in options if o.startswith("--time="))
  assert time_limit <= "--time=01:00:00"
  # And it runs the merge (JAX kept off any accelerator).
  bindir, env = fakes
  record = str(tmp_path / "python.jsonl")
  write_fake(bindir / "python", record)
  run_script(os.path.join(LAUNCH, "slurm_merge.sh"), "--workdir=runs/x", env=env, cwd=tmp_path)
  (call,) = calls(record)
  assert call["argv"] == ["-m", "launch.sweep", "--merge_only", "--workdir=runs/x"]
  assert call["env"]["JAX_PLATFORMS"] == "cpu"


def test_slurm_array_task_forwards_flags_intact(tmp_path, fakes):
  bindir, env = fakes
  record = str(tmp_path / "python.jsonl")
  write_fake(bindir / "python", record)
  run_script(
      os.path.join(LAUNCH, "slurm_array.sh"),
      "--workdir=runs/x",
      *TRICKY,
      env=dict(env, SLURM_SUBMIT_DIR=str(tmp_path)),
      cwd=REPO,
  )
  (call,) = calls(record)
  assert call["argv"] == ["-m", "launch.sweep", "--workdir=runs/x", *TRICKY]
  assert os.path.realpath(call["cwd"]) == os.path.realpath(tmp_path)


def test_slurm_multinode_runs_one_multihost_process_per_gpu_under_srun(tmp_path, fakes):
  options = sbatch_options(os.path.join(LAUNCH, "slurm_multinode.sh"))
  assert any(o.startswith("--nodes=") for o in options)
  # JAX gives each SLURM task GPU number SLURM_LOCALID: tasks per node must
  # equal the node's GPUs, and each task must see all of them.
  tasks = next(o for o in options if o.startswith("--ntasks-per-node="))
  gres = next(o for o in options if o.startswith("--gres=gpu:"))
  assert tasks.split("=")[1] == gres.split(":")[-1]
  assert not any(re.search("gpus-per-task|gpu-bind", o) for o in options)
  bindir, env = fakes
  record = str(tmp_path / "srun.jsonl")
  write_fake(bindir / "srun", record)
  run_script(
      os.path.join(LAUNCH, "slurm_multinode.sh"),
      "--config=experiments/x.py",
      "--workdir=runs/x",
      *TRICKY,
      env=dict(env, SLURM_SUBMIT_DIR=str(tmp_path)),
      cwd=REPO,
  )
  (call,) = calls(record)
  python = call["argv"].index("python")
  assert call["argv"][python:] == [
      "python",
      "-m",
      "launch.sweep",
      "--multihost",
      "--config=experiments/x.py",
      "--workdir=runs/x",
      *TRICKY,
  ]


# TPU VM.


def run_tpu_vm(tmp_path, fakes, *args, **variables):
  """Runs tpu_vm.sh with a fake gcloud, then its remote command on a fake worker.

  Returns the gcloud argv, the recorded python calls (argv, cwd) on the worker
  and the worker's home directory.
  """
  bindir, env = fakes
  local_home = tmp_path / "local_home"
  remote_home = tmp_path / "remote_home"
  local_home.mkdir()
  remote_home.mkdir()
  gcloud_record = str(tmp_path / "gcloud.jsonl")
  python_record = str(tmp_path / "python.jsonl")
  write_fake(bindir / "gcloud", gcloud_record)
  recorder = tmp_path / "recorder" / "python3"
  recorder.parent.mkdir()
  write_fake(recorder, python_record)
  env = dict(
      env, HOME=str(local_home), PYTHON=str(recorder), TPU_NAME="tpu-1", ZONE="z-1", **variables
  )
  run_script(os.path.join(LAUNCH, "tpu_vm.sh"), *args, env=env, cwd=REPO)

  (gcloud,) = calls(gcloud_record)
  command = [a for a in gcloud["argv"] if a.startswith("--command=")]
  assert len(command) == 1, gcloud["argv"]
  remote = command[0][len("--command=") :]
  # The worker: a login shell in the remote home, where the checkout exists.
  for repo in ("featurespring", "other"):
    (remote_home / repo).mkdir(exist_ok=True)
  worker_env = {"HOME": str(remote_home), "PATH": os.environ["PATH"]}
  started = time.monotonic()
  subprocess.run(
      ["bash", "-c", remote],
      cwd=remote_home,
      env=worker_env,
      check=True,
      timeout=30,
      capture_output=True,
  )
  # The ssh command returns at once; the job runs on in the background.
  assert time.monotonic() - started < 20
  expected = 2 if variables.get("INSTALL", "1") == "1" else 1
  deadline = time.monotonic() + 30
  while len(calls(python_record)) < expected and time.monotonic() < deadline:
    time.sleep(0.1)
  return gcloud["argv"], remote, calls(python_record), remote_home


def test_tpu_vm_forwards_arguments_intact(tmp_path, fakes):
  gcloud, _, (sweep,), remote_home = run_tpu_vm(
      tmp_path, fakes, *TRICKY, INSTALL="0", WORKDIR="/mnt/shared/runs/x"
  )
  assert gcloud[:5] == ["compute", "tpus", "tpu-vm", "ssh", "tpu-1"]
  assert "--zone=z-1" in gcloud and "--worker=all" in gcloud
  assert sweep["argv"] == [
      "-m",
      "launch.sweep",
      "--multihost",
      "--config=experiments/fig1c_dropout.py",
      "--workdir=/mnt/shared/runs/x",
      *TRICKY,
  ]
  assert sweep["cwd"] == str(remote_home / "featurespring")
  # One log per worker, named after its host.
  log = remote_home / "featurespring" / "logs" / f"tpu_vm-{socket.gethostname()}.log"
  assert log.exists()


def test_tpu_vm_does_not_expand_home_locally(tmp_path, fakes):
  _, remote, (sweep,), remote_home = run_tpu_vm(tmp_path, fakes, INSTALL="0")
  assert str(tmp_path / "local_home") not in remote
  assert sweep["cwd"] == str(remote_home / "featurespring")
  # A literal ~/ (quoted, so the local shell kept it) means the remote home.
  (tmp_path / "tilde").mkdir()
  _, remote, (sweep,), remote_home = run_tpu_vm(
      tmp_path / "tilde", fakes, INSTALL="0", REPO_DIR="~/other"
  )
  assert sweep["cwd"] == str(remote_home / "other")


def test_tpu_vm_installs_first_unless_switched_off(tmp_path, fakes):
  with open(os.path.join(REPO, "constraints.txt")) as f:  # the versions measured with
    jax_pin = re.search(r"^jax==(\S+)$", f.read(), re.M).group(1)
  _, _, (install, sweep), remote_home = run_tpu_vm(tmp_path, fakes)
  assert install["argv"] == ["-m", "pip", "install", "-e", ".", f"jax[tpu]=={jax_pin}"]
  assert install["cwd"] == str(remote_home / "featurespring")
  assert sweep["argv"][:3] == ["-m", "launch.sweep", "--multihost"]


def test_tpu_vm_refuses_a_url_workdir(tmp_path, fakes):
  bindir, env = fakes
  record = str(tmp_path / "gcloud.jsonl")
  write_fake(bindir / "gcloud", record)
  result = run_script(
      os.path.join(LAUNCH, "tpu_vm.sh"),
      env=dict(env, WORKDIR="gs://bucket/runs/x"),
      cwd=REPO,
      check=False,
  )
  assert result.returncode != 0 and "gs://" in result.stderr
  assert not calls(record)
