"""The café as a container on ECS Fargate: an ASGI app served by uvicorn."""
