# Metadata lives in pyproject.toml; this file only hooks the cffi build into setuptools.
from setuptools import setup

setup(cffi_modules=["micrograd_c/_build.py:ffibuilder"])
