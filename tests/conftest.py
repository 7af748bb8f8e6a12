"""Test-session setup shared by all test modules.

XLA's multi-threaded Eigen pool on CPU has been seen to wedge (threads parked
on a futex, no CPU use) while materialising results of vmapped training
graphs, here and upstream (PyAutoFit issues 1528/1530: 14 hangs in 16 runs
with the pool, none in 12 without). Tests run with the single-threaded
Eigen path, which costs little on a 2-core machine and makes the suite
unable to hang that way. The flag must be set before the XLA backend starts;
subprocesses started by tests inherit it through the environment.
"""

import os

_FLAG = "--xla_cpu_multi_thread_eigen=false"
if _FLAG not in os.environ.get("XLA_FLAGS", ""):
  os.environ["XLA_FLAGS"] = (os.environ.get("XLA_FLAGS", "") + " " + _FLAG).strip()
