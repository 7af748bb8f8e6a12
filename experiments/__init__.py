"""This repository's studies, written over the ``featurespring`` library.

The top level holds one sweep config per paper figure (shared by several
studies; ``python -m launch.sweep --config=experiments/<figure>.py``). Each
study is a folder with its plan and results (``README.md``), its sweep
configs, its run script (``run.sh``), its report
(``python -m experiments.<study>.report``) and the analysis that belongs to
it alone (verdict rules, thresholds, pre-registered statistics):
``reproduction``, ``central_claim``, ``bridge``, ``control``,
``crossing_vs_order``. The run
scripts log their sweeps' wall times through ``runtimes.sh``, which the
reports read with :mod:`experiments.runtimes`.
"""
