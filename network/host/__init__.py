"""The Network page's host side, plain Python: interfaces, routes and DNS (links.py), NetworkManager (nm.py)."""
