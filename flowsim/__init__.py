"""flowsim: patient flow under China's tiered diagnosis and treatment system (分级诊疗)."""

from flowsim.api import run
from flowsim.config import Scenario, load_scenario
from flowsim.errors import InputError
from flowsim.experiments import ExperimentResults, compare, run_experiment
from flowsim.model import CountyModel
from flowsim.results import Results
from flowsim.version import VERSION

__all__ = [
    "CountyModel",
    "ExperimentResults",
    "InputError",
    "Results",
    "Scenario",
    "compare",
    "load_scenario",
    "run",
    "run_experiment",
]
__version__ = VERSION
