"""The deterministic synthetic 山亭区: reference data and series as a pure function of (seed, scale, time)."""

from datasources.synthetic.district import SyntheticDistrict

__all__ = ["SyntheticDistrict"]
