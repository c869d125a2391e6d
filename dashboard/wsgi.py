"""WSGI entry for gunicorn: ``gunicorn dashboard.wsgi:server``.

Behind a reverse proxy set ``SHANTING_SERVER__PROXY_HOPS`` (README, "Deploying"): the app factory then believes
that many proxies' ``X-Forwarded-*`` headers, and no more.
"""

from dashboard.app import create_app

server = create_app().server
