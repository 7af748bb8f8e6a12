"""A sweep process killed at its first checkpoint, then run again: the shared probe of resume tests."""

import os
import signal
import subprocess
import time

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def stop_at_first_checkpoint(command, workdir, env, sig=signal.SIGKILL):
  """Runs ``command`` until ``chunk_00000``'s first checkpoint, then sends it ``sig``.

  Returns:
    ``(returncode, stderr)`` of the stopped process.
  """
  checkpoint = workdir / "checkpoints" / "chunk_00000.npz"
  process = subprocess.Popen(
      command, cwd=REPO, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True
  )
  try:
    deadline = time.monotonic() + 240
    while not checkpoint.exists() and process.poll() is None and time.monotonic() < deadline:
      time.sleep(0.05)
    assert checkpoint.exists(), "no checkpoint appeared"
    process.send_signal(sig)
    _, stderr = process.communicate(timeout=120)
  finally:
    process.kill()
    process.wait()
  assert not (workdir / "results.json").exists()
  return process.returncode, stderr


def kill_at_first_checkpoint_then_resume(command, workdir, tmp_path):
  """SIGKILLs ``command`` at its first checkpoint, then reruns it.

  The rerun shares the stopped process's compilation cache (it reuses the
  compiled program from disk). Returns the rerun's ``CompletedProcess``
  (stderr as text) after checking the stopped run left no merged result.
  """
  env = dict(os.environ, JAX_PLATFORMS="cpu", JAX_COMPILATION_CACHE_DIR=str(tmp_path / "jax_cache"))
  stop_at_first_checkpoint(command, workdir, env)
  return subprocess.run(
      command, cwd=REPO, env=env, check=True, capture_output=True, text=True, timeout=300
  )
