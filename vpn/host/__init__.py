"""WireGuard on the host (plain Python, no Django): keys and configuration text (config.py), and the commands that
make, configure and remove the interface (wg.py), through storage/host/command.py's run(): argv lists, no shell."""
