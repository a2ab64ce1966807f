"""The firewall's host side, plain Python (no Django): nft.py renders and loads our nftables table."""
