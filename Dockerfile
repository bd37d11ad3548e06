# The Roster server image: two static binaries (roster and its health
# probe, roster-healthcheck) on an empty base, run as uid 65532.
#
# From source, on a Docker host that can pull golang:1.26 (BuildKit, the
# default builder of Docker Engine 23 and later and of docker compose):
#
#   docker build -t roster .
#
# From binaries built outside Docker, pulling no image at all (the
# integration tests build it this way; the legacy builder works too,
# because every stage it needs comes before the one that pulls):
#
#   CTX=$(mktemp -d)
#   CGO_ENABLED=0 go build -trimpath -ldflags '-s -w' -o "$CTX/" ./cmd/roster ./cmd/roster-healthcheck
#   mkdir -p "$CTX/data" "$CTX/tmp" "$CTX/etc/ssl/certs"
#   cp /etc/ssl/certs/ca-certificates.crt "$CTX/etc/ssl/certs/"   # TLS to MongoDB Atlas
#   cp Dockerfile "$CTX/"
#   DOCKER_BUILDKIT=0 docker build --target prebuilt -t roster "$CTX"
#
# Both targets make the same image: the prebuilt context is laid out like
# the build stage's /rootfs below.

# runtime: what every Roster image is, files aside.
FROM scratch AS runtime
ENV ROSTER_ADDR=0.0.0.0:8080 \
    ROSTER_DATA=/data \
    TMPDIR=/tmp
EXPOSE 8080
# Not root: 65532 is the "nonroot" user of distroless images. Scratch has
# no /etc/passwd, so the user is numeric.
USER 65532:65532
# The probe reads ROSTER_ADDR's port, so a changed ROSTER_ADDR needs no
# change here.
HEALTHCHECK --interval=10s --timeout=3s --start-period=30s --retries=3 CMD ["/roster-healthcheck"]
ENTRYPOINT ["/roster"]
CMD ["serve"]

# prebuilt: the image from a context holding the binaries (see above).
FROM runtime AS prebuilt
COPY roster roster-healthcheck /
COPY etc/ /etc/
# The embedded store's directory and the temporary directory belong to the
# user the server runs as; everything else belongs to root.
COPY --chown=65532:65532 data/ /data/
COPY --chown=65532:65532 tmp/ /tmp/
WORKDIR /data
VOLUME ["/data"]

# build: compiles both binaries from this repository.
FROM golang:1.26 AS build
# What 'roster version' prints; the build context has no .git to read:
#   docker build --build-arg VERSION=$(git describe --tags --always) --build-arg COMMIT=$(git rev-parse HEAD) -t roster .
ARG VERSION=""
ARG COMMIT=""
WORKDIR /src
COPY go.mod go.sum ./
RUN go mod download
COPY . .
RUN mkdir -p /rootfs/data /rootfs/tmp /rootfs/etc/ssl/certs \
 && cp /etc/ssl/certs/ca-certificates.crt /rootfs/etc/ssl/certs/ \
 && CGO_ENABLED=0 go build -trimpath -ldflags "-s -w -X main.version=${VERSION} -X main.commit=${COMMIT}" -o /rootfs/ ./cmd/roster ./cmd/roster-healthcheck

# The default target: the image from source. Keep it in step with
# prebuilt.
FROM runtime
COPY --from=build /rootfs/roster /rootfs/roster-healthcheck /
COPY --from=build /rootfs/etc/ /etc/
COPY --from=build --chown=65532:65532 /rootfs/data/ /data/
COPY --from=build --chown=65532:65532 /rootfs/tmp/ /tmp/
WORKDIR /data
VOLUME ["/data"]
