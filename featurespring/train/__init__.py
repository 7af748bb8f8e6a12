"""Train populations of networks in one compiled program (docs/theory.md §2, §4).

- `hparams`: `Config` (static: shapes, optimiser, loss), `HParams` (one array
  per hyperparameter over the population axis), validation.
- `step`: one net's epoch (batches, noise, dropout, update, freezing).
- `loop`: `TrainState`, `init`, `train_epochs` (resumable, metrics per epoch),
  `evaluate`, `masked_mean`.
- `schedule`: `Schedule` (run length, a dropout switch mid-training) and
  `train_scheduled`, any span of epochs of a schedule.
- `controller`: the load-curve controller (``Config.control_*``,
  ``HParams.control_gain``/``control_target``), steering each net's dropout
  rate to a target curvature inside the compiled loop.
- `grid`: `train_grid`, a whole phase-diagram grid, one compile per
  shape-changing value (batch size, depth, width).
"""

from featurespring.train.hparams import Config
from featurespring.train.hparams import HParams
from featurespring.train.loop import Data
from featurespring.train.loop import evaluate
from featurespring.train.loop import init
from featurespring.train.loop import masked_mean
from featurespring.train.loop import train_epochs
from featurespring.train.loop import TrainState
from featurespring.train import controller
from featurespring.train import schedule
from featurespring.train.schedule import Schedule
from featurespring.train.grid import GridResult
from featurespring.train.grid import train_grid
