#!/usr/bin/env bash
# Builds small images from busybox-static and pushes them to the loopback registry (skips what is there).
source "$(dirname "$0")/lib.sh"
REGISTRY=127.0.0.1:5000
has_tag() { curl -fsS "http://$REGISTRY/v2/$1/tags/list" 2>/dev/null | grep -q "\"$2\""; }

build() {
  # build NAME TAG INDEX_TEXT CMD_JSON
  local name="$1" tag="$2" text="$3" cmd="$4" root
  has_tag "$name" "$tag" && return 0
  root="$(mktemp -d)"
  mkdir -p "$root/bin" "$root/www" "$root/tmp" "$root/etc" "$root/data"
  cp /bin/busybox "$root/bin/busybox"
  for applet in sh ash sleep httpd cat echo ls env wget nc true false id ps kill mkdir rm touch date hostname \
                printf grep head tail seq yes dd sed; do
    ln -s busybox "$root/bin/$applet"
  done
  printf '%s\n' "$text" >"$root/www/index.html"
  echo 'root:x:0:0:root:/root:/bin/sh' >"$root/etc/passwd"
  echo 'root:x:0:' >"$root/etc/group"
  say "building $REGISTRY/$name:$tag"
  tar -C "$root" -c . | docker import --change "CMD $cmd" - "$REGISTRY/$name:$tag" >/dev/null
  docker push -q "$REGISTRY/$name:$tag" >/dev/null
  rm -rf "$root"
}

build casa/httpd 1 "hello v1" '["/bin/httpd","-f","-p","8080","-h","/www"]'
build casa/httpd 2 "hello v2" '["/bin/httpd","-f","-p","8080","-h","/www"]'
build casa/busybox 1 "busybox" '["/bin/sh","-c","trap \"exit 0\" TERM; while true; do sleep 1; done"]'
# Stand-ins for Docker Hub names, reached through the engine's registry mirror.
build library/nginx 1.25 "nginx stand-in" '["/bin/httpd","-f","-p","80","-h","/www"]'

# A stand-in for Docker's official CLI image (docker:27-cli), which the swarm engine runs as a one-shot job on every
# node to remove an app's volumes there (docs/multi-node.md): busybox, and Debian's docker client with the C
# libraries it links.
cli_image() {
  local name=library/docker tag=27-cli root lib
  has_tag "$name" "$tag" && return 0
  root="$(mktemp -d)"
  mkdir -p "$root/bin" "$root/usr/local/bin" "$root/tmp"
  cp /bin/busybox "$root/bin/busybox"
  for applet in sh ls cat echo xargs true; do ln -s busybox "$root/bin/$applet"; done
  cp /usr/bin/docker "$root/usr/local/bin/docker"
  for lib in $(ldd /usr/bin/docker | grep -o '/[^ ]*'); do mkdir -p "$root$(dirname "$lib")"; cp -L "$lib" "$root$lib"; done
  say "building $REGISTRY/$name:$tag"
  tar -C "$root" -c . | docker import --change 'ENV PATH=/usr/local/bin:/bin' --change 'CMD ["docker"]' - \
    "$REGISTRY/$name:$tag" >/dev/null
  docker push -q "$REGISTRY/$name:$tag" >/dev/null
  rm -rf "$root"
}
cli_image
