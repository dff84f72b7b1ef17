# Runs once in the debugger's interpreter: the dbgkit package is served from
# the plugin's embedded sources (`_sources`: {module: (is_package, source)}),
# ahead of any installed copy, and the native module is already in
# sys.modules as dbgkit._dbgkit.
import importlib.abc
import importlib.util
import sys


class _EmbeddedDbgkit(importlib.abc.MetaPathFinder, importlib.abc.Loader):
    def __init__(self, sources):
        self.sources = sources

    def find_spec(self, fullname, path=None, target=None):
        if fullname not in self.sources:
            return None
        is_package = self.sources[fullname][0]
        spec = importlib.util.spec_from_loader(fullname, self, origin="<dbgkit>/" + fullname, is_package=is_package)
        if is_package:
            spec.submodule_search_locations = []
        return spec

    def create_module(self, spec):
        return None

    def exec_module(self, module):
        source = self.sources[module.__name__][1]
        exec(compile(source, "<dbgkit>/" + module.__name__.replace(".", "/") + ".py", "exec"), module.__dict__)


sys.meta_path.insert(0, _EmbeddedDbgkit(_sources))
for _stream in (sys.stdout, sys.stderr):
    try:
        _stream.reconfigure(line_buffering=True)
    except (AttributeError, ValueError):
        pass
import dbgkit  # noqa: E402
