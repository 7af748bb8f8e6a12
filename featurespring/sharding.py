"""Spreading a chunk's members over every device of every host.

A one-axis ``Mesh`` (axis ``members``) spans all devices in the job; arrays
whose leading axis is the member axis are split along it, everything else is
replicated. A chunk whose size does not divide the device count is padded by
repeating its last member (valid values, so padded runs cannot fail where real
ones would not); :func:`gather_members` drops the padding again.

On several hosts (after :func:`initialize_distributed`), every host builds the
same full inputs (they are a pure function of the config) and contributes the
slices its devices own; results are all-gathered so any host can write them.
"""

from __future__ import annotations

import os
import sys
import threading

import jax
import numpy as np
from absl import logging
from jax.experimental import multihost_utils
from jax.sharding import Mesh, NamedSharding, PartitionSpec

MEMBER_AXIS = "members"


def initialize_distributed(
    coordinator_address: str | None = None,
    num_processes: int | None = None,
    process_id: int | None = None,
    timeout_s: float = 300.0,
) -> None:
  """Starts ``jax.distributed`` (multi-host) and logs this process's place.

  Arguments left as None come from the environment. ``jax.distributed``
  itself detects managed clusters (SLURM, Open MPI, TPU VMs, Kubernetes) and
  reads ``JAX_COORDINATOR_ADDRESS``, but has no variables for the process
  count and index; on a plain set of machines (or several processes on one)
  set ``JAX_NUM_PROCESSES`` and ``JAX_PROCESS_ID`` beside the address, which
  is what ``python -m launch.sweep --multihost`` then needs.

  Processes that compute on CPU need CPU collectives for the all-gathers
  (JAX 0.10.2 defaults ``jax_cpu_collectives_implementation`` to ``gloo``;
  ``JAX_CPU_COLLECTIVES_IMPLEMENTATION=gloo`` sets it explicitly).

  Args:
    coordinator_address: ``host:port`` of process 0's coordinator.
    num_processes: number of processes in the job.
    process_id: this process's index in ``[0, num_processes)``.
    timeout_s: how long to wait for every process to join. A process that
      is still waiting then ends at once (exit status 75, EX_TEMPFAIL) with
      one line on stderr naming the coordinator and what to check; nothing
      has been computed yet, so nothing is lost. (XLA's own timeout aborts
      the process with a C++ stack trace instead, and cannot be caught: it
      is set a minute later so that this one comes first.)
  """
  if not timeout_s > 0:
    raise ValueError(f"timeout_s must be > 0 seconds, got {timeout_s}")
  if num_processes is None and "JAX_NUM_PROCESSES" in os.environ:
    num_processes = int(os.environ["JAX_NUM_PROCESSES"])
  if process_id is None and "JAX_PROCESS_ID" in os.environ:
    process_id = int(os.environ["JAX_PROCESS_ID"])
  address = coordinator_address or os.environ.get("JAX_COORDINATOR_ADDRESS", "the coordinator")
  watchdog = threading.Timer(
      timeout_s, _give_up_joining, (address, process_id, num_processes, timeout_s)
  )
  watchdog.daemon = True
  watchdog.start()
  try:
    jax.distributed.initialize(
        coordinator_address=coordinator_address,
        num_processes=num_processes,
        process_id=process_id,
        initialization_timeout=int(timeout_s) + 60,
    )
  finally:
    watchdog.cancel()
  logging.info(
      "jax.distributed: process %d of %d, %d local / %d global devices",
      jax.process_index(),
      jax.process_count(),
      jax.local_device_count(),
      jax.device_count(),
  )


def _give_up_joining(address, process_id, num_processes, timeout_s) -> None:
  """Ends a process whose peers did not all join (see :func:`initialize_distributed`)."""
  who = "this process" if process_id is None else f"process {process_id}"
  of = "" if num_processes is None else f" of {num_processes}"
  every = "all the" if num_processes is None else f"all {num_processes}"
  sys.stderr.write(
      f"featurespring: error: {who}{of} waited {timeout_s:g} s for every process to join "
      f"through {address} and gave up: check that {every} processes were "
      "started (each with its own JAX_PROCESS_ID) and that the address is reachable from "
      "this host, or allow longer (--multihost_timeout_s); nothing was computed yet\n"
  )
  sys.stderr.flush()
  os._exit(75)  # pylint: disable=protected-access


def member_mesh(devices=None) -> Mesh:
  """A 1-D mesh over ``devices`` (default: all devices of all hosts)."""
  devices = jax.devices() if devices is None else devices
  return Mesh(np.asarray(devices), (MEMBER_AXIS,))


def padded_size(num_members: int, mesh: Mesh) -> int:
  """Smallest multiple of the mesh size that holds ``num_members``."""
  return -(-num_members // mesh.size) * mesh.size


def _pad(array: np.ndarray, size: int) -> np.ndarray:
  extra = size - array.shape[0]
  return np.concatenate([array, np.repeat(array[-1:], extra, axis=0)]) if extra else array


def shard_members(tree, mesh: Mesh, size: int | None = None):
  """Pads and splits every leaf of ``tree`` along its leading (member) axis.

  Leaves are host arrays (NumPy) of one common leading length; PRNG key
  arrays are accepted and stay typed keys. ``size`` (default: the smallest
  that fits) is the padded length, a multiple of the mesh size; giving every
  chunk of a sweep the same one means one compile serves them all.
  """
  sharding = NamedSharding(mesh, PartitionSpec(MEMBER_AXIS))

  def place(leaf):
    is_key = jax.dtypes.issubdtype(getattr(leaf, "dtype", None), jax.dtypes.prng_key)
    impl = jax.random.key_impl(leaf) if is_key else None
    host = np.asarray(jax.random.key_data(leaf) if is_key else leaf)
    host = _pad(host, size or padded_size(host.shape[0], mesh))
    placed = jax.make_array_from_callback(host.shape, sharding, lambda index: host[index])
    return jax.random.wrap_key_data(placed, impl=impl) if is_key else placed

  return jax.tree.map(place, tree)


def shard_state(tree, mesh: Mesh, size: int):
  """``tree`` with every leaf led by the ``size``-member axis on the member
  sharding and every other leaf replicated over ``mesh``.

  An engine's ``init`` may leave leaves replicated or on one device (shared
  initial values, a history filled later); a compiled step then sees other
  input shardings on its first call than on the next, and compiles twice.
  """
  member = NamedSharding(mesh, PartitionSpec(MEMBER_AXIS))
  replicated = NamedSharding(mesh, PartitionSpec())

  def place(leaf):
    if not isinstance(leaf, jax.Array):
      return leaf
    return jax.device_put(leaf, member if leaf.ndim and leaf.shape[0] == size else replicated)

  return jax.tree.map(place, tree)


def to_host(leaf) -> np.ndarray:
  """A (possibly multi-host) array as one host NumPy array, keys as key data."""
  if jax.dtypes.issubdtype(getattr(leaf, "dtype", None), jax.dtypes.prng_key):
    leaf = jax.random.key_data(leaf)
  if isinstance(leaf, jax.Array) and not leaf.is_fully_addressable:
    return np.asarray(multihost_utils.process_allgather(leaf, tiled=True))
  return np.asarray(leaf)


def local_values(leaf) -> np.ndarray:
  """The values of ``leaf`` held by this process, as a host array.

  For host-side checks (ranges, finiteness) of arrays that may span other
  hosts' devices, where ``np.asarray`` fails: a fully addressable array comes
  back whole; otherwise the flattened concatenation of this process's shards
  (replicated ones repeat), so the processes together check every member
  without a collective. A check that fails on one process only then stops
  that process alone, so values should already have been checked on the
  host before they were sharded (as a sweep's plan does).
  """
  if isinstance(leaf, jax.Array) and not leaf.is_fully_addressable:
    return np.concatenate([np.ravel(shard.data) for shard in leaf.addressable_shards])
  return np.asarray(leaf)


def gather_members(tree, num_members: int):
  """Host copies of ``tree``'s leaves without the padding members."""
  return jax.tree.map(lambda leaf: to_host(leaf)[:num_members], tree)


def place_like(host: np.ndarray, template):
  """Puts a host array onto the devices with ``template``'s sharding (and key type)."""
  is_key = jax.dtypes.issubdtype(template.dtype, jax.dtypes.prng_key)
  sharding = getattr(template, "sharding", None)
  if sharding is None:
    placed = jax.numpy.asarray(host)
  else:
    placed = jax.make_array_from_callback(host.shape, sharding, lambda index: host[index])
  if is_key:
    return jax.random.wrap_key_data(placed, impl=jax.random.key_impl(template))
  return placed
