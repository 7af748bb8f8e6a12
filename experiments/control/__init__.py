"""The load-curve controller against tuned fixed-dropout grids: evaluation analysis and report."""
