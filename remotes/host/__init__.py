"""Host side of remotes: rclone (config, mount, sync) and the kernel's cifs/nfs clients; plain Python, argv lists."""
