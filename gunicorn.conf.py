"""gunicorn settings: access log without ballot tokens (a logged link is a usable ballot)
nor receipt codes (a logged code shows how a household voted)."""

import os
import sys

from gunicorn.glogging import Logger

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from residents_vote.logmask import mask  # noqa: E402 - after the repository is on the path

accesslog = "-"
workers = 2
timeout = 60
# gunicorn >= 24 opens a control socket at a fixed per-user path ($HOME/.gunicorn/gunicorn.ctl):
# a second server on the same host would take it over from the first. Nothing uses it.
control_socket_disable = True


class TokenMaskingLogger(Logger):
    def atoms(self, resp, req, environ, request_time):  # noqa: ANN001
        # Every text atom: the request line, path, query, referer and every header or
        # environ variable a log format may name; tokens masked also when percent-encoded.
        atoms = super().atoms(resp, req, environ, request_time)
        for key, value in atoms.items():
            if isinstance(value, str):
                atoms[key] = mask(value)
        return atoms


logger_class = TokenMaskingLogger
