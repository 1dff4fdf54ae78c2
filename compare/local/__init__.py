"""The runtimes on this machine: their one list, ports, run options and commands (runtimes.py),
starting and stopping processes (processes.py), all of them on one store (cafe.py), and the local
Lambda (lambda_emu/: an API-Gateway-style front over real `awslambdaric` environments)."""
