"""gunicorn settings: access log without ballot tokens (a logged link is a usable ballot)
nor receipt codes (a logged code shows how a household voted)."""

import re

from gunicorn.glogging import Logger

TOKEN = re.compile(r"(/b/)[A-Za-z0-9_\-]+")
RECEIPT = re.compile(r"((?:^|[?&])code=)[^&\s\"']+")

accesslog = "-"
workers = 2
timeout = 60
# gunicorn >= 24 opens a control socket at a fixed per-user path ($HOME/.gunicorn/gunicorn.ctl):
# a second server on the same host would take it over from the first. Nothing uses it.
control_socket_disable = True


class TokenMaskingLogger(Logger):
    def atoms(self, resp, req, environ, request_time):  # noqa: ANN001
        atoms = super().atoms(resp, req, environ, request_time)
        for key in ("r", "U", "q", "f", "{raw_uri}e"):
            if isinstance(atoms.get(key), str):
                atoms[key] = RECEIPT.sub(r"\1…", TOKEN.sub(r"\1…", atoms[key]))
        return atoms


logger_class = TokenMaskingLogger
