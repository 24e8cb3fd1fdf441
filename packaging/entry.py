"""Entry point of the frozen (PyInstaller) build.

``marie --run-module MODULE [ARGS]`` runs a bundled module as ``__main__`` (what ``python -m`` does
for an installed MarieIDE): the local model worker, pylsp and the git status helper are started this
way by ``marie.core.python_cmd.module_command``. Everything else is the ``marie`` command line.
"""

import runpy
import sys

if len(sys.argv) > 2 and sys.argv[1] == "--run-module":
    module = sys.argv[2]
    sys.argv = [module, *sys.argv[3:]]
    runpy.run_module(module, run_name="__main__", alter_sys=True)
    raise SystemExit(0)

from marie.cli import main  # noqa: E402

raise SystemExit(main())
