"""The edit-quality task suite (``bench/bench_quality.py``): small edits on real-looking code, each
with an automatic check (a script that must exit 0 in the edited workspace)."""
