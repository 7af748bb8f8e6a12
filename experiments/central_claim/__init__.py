"""The pre-registered test of "best accuracy near the linear load curve": statistics and report."""
