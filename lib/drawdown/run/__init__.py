"""Running drawdown: the pipeline that validates, executes the compute and report notebooks on a
pool of kernels, exports, renders and publishes a run folder, with its cache, manifest and
progress (docs/outputs.md)."""
