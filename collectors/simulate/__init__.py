"""The simulated enterprise account: demo and benchmark lakes built through the real normalizer."""

from collectors.simulate.build import GROUND_TRUTH_FILE, Summary, World, build_demo, make_plan

__all__ = ["GROUND_TRUTH_FILE", "Summary", "World", "build_demo", "make_plan"]
