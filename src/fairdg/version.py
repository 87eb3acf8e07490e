"""The package version, on the bottom floor: run records, artifacts and the command line read it
from here, so that nothing below the package face imports the face itself."""

__version__ = "0.1.0"
