"""The café on a plain EC2 instance: gunicorn with uvicorn workers (ASGI), started by systemd."""
