"""The bottom floor every other package stands on: how results are kept.

* ``runstore.files``: atomic, pickle-free saving and checked loading of arrays, JSON and torch
  checkpoints (a torn, corrupt or non-finite file is refused with its name and what is wrong);
* ``runstore.locks``: one process per run directory, and the shared/exclusive lock of a build;
* ``runstore.cli``: argument types with their ranges, and one-line errors with honest exit codes;
* ``runstore.provenance``: what every saved result records of its making (commit, command, settings, inputs).

It imports nothing from the project, so bio/, readout/, networks/ and analysis/ can all use it.
"""
