"""gunicorn settings: access log without ballot tokens (a logged link is a usable ballot)."""

import re

from gunicorn.glogging import Logger

TOKEN = re.compile(r"(/b/)[A-Za-z0-9_\-]+")

accesslog = "-"
workers = 2
timeout = 60
# gunicorn >= 24 opens a control socket at a fixed per-user path ($HOME/.gunicorn/gunicorn.ctl):
# a second server on the same host would take it over from the first. Nothing uses it.
control_socket_disable = True


class TokenMaskingLogger(Logger):
    def atoms(self, resp, req, environ, request_time):  # noqa: ANN001
        atoms = super().atoms(resp, req, environ, request_time)
        for key in ("r", "U", "f", "{raw_uri}e"):
            if isinstance(atoms.get(key), str):
                atoms[key] = TOKEN.sub(r"\1…", atoms[key])
        return atoms


logger_class = TokenMaskingLogger
