"""Tests of the provider clients against the sandbox providers over real HTTP."""
