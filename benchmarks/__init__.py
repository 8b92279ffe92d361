"""Side-by-side benchmarks: coderkit against its peers (Beam's compiled coders, pickle, sparkpickle)
in the same process, printing ours/peer ratios. Run them all with ``python -m benchmarks``."""
