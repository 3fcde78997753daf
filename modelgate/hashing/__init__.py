"""Artifact digests at CPU speed, the per-clone hash cache, and progress bars."""
