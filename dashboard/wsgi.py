"""WSGI entry for gunicorn: ``gunicorn dashboard.wsgi:server``.

Behind a reverse proxy set ``SHANTING_SERVER__PROXY_HOPS`` (README, "Deploying"): the app factory then believes
that many proxies' ``X-Forwarded-*`` headers, and no more.
"""

from dashboard.app import create_app
from dashboard.routes import start_warming

server = create_app().server
# each worker, as it starts: its start-up objects are frozen (routes.settle), then the first screen finds it warm
start_warming(server.extensions["shanting.services"], freeze=True)
