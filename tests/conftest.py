"""Shared pytest configuration: hypothesis profiles and the torch thread count."""

import os

import torch
from hypothesis import HealthCheck, settings

# A bounded, deterministic profile for CI; `HYPOTHESIS_PROFILE=dev` explores more.
settings.register_profile("ci", max_examples=60, derandomize=True, deadline=None,
                          suppress_health_check=[HealthCheck.too_slow])
settings.register_profile("dev", max_examples=500, deadline=None)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "ci"))

torch.set_num_threads(1)  # results and speed independent of the machine's core count
