"""Host side of the proxy: Caddy run and configured through its admin API (plain Python, no Django)."""
