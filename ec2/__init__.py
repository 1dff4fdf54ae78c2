"""The café on a plain EC2 instance: a WSGI app under gunicorn, started by systemd."""
